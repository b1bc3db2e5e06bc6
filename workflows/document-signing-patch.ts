/** M10/M13 certificates signed by the maker's seal after they are rendered: runs started before this patch replay unchanged. */
export const SIGN_DOCUMENTS_PATCH = 'sign-seal-documents';

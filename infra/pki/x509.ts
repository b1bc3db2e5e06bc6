// @peculiar/x509 resolves its algorithms through tsyringe, which needs a Reflect metadata polyfill loaded
// before the library. Import x509 from here (not from '@peculiar/x509') so that always holds.
import 'reflect-metadata';

export * from '@peculiar/x509';

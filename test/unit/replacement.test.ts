import { materialsCarriedOver, replacementReasonOf, replacementRenewsMaterials } from '../../domain';

describe('M11: a replacement after a change brings new materials', () => {
  it('M11: reads the reason a replacement request recorded, and nothing from another text', () => {
    expect(replacementReasonOf('name_change')).toBe('name_change');
    expect(replacementReasonOf('legal_rep_change: 法定代表人变更')).toBe('legal_rep_change');
    expect(replacementReasonOf('name_changed')).toBeUndefined();
    expect(replacementReasonOf(null)).toBeUndefined();
  });
  it('M11: a change of holder, name, legal representative or operator carries no old material over; a damaged seal keeps them all', () => {
    const old = [{ kind: 'establishment_document' }, { kind: 'handler_id_copy' }];
    for (const r of ['holder_change', 'name_change', 'legal_rep_change', 'operator_change', undefined] as const) {
      expect([r, replacementRenewsMaterials(r), materialsCarriedOver(r, old)]).toEqual([r, true, []]);
    }
    expect(replacementRenewsMaterials('damaged')).toBe(false);
    expect(materialsCarriedOver('damaged', old)).toEqual(old);
  });
});

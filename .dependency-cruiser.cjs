// Layers as rules (issue 11). Each layer imports only inward:
//   domain <- infra <- activities <- workflows <- usecases <- web, workers, scripts
// `npm run lint` runs `depcruise` with this file; test/unit/layers.test.ts proves a wrong-way import fails.
const layers = ['domain', 'infra', 'activities', 'workflows', 'usecases'];
const outer = ['web', 'workers', 'scripts'];

/** The folders a layer must not import: every layer outside it. */
function outward(layer) {
  const i = layers.indexOf(layer);
  return [...layers.slice(i + 1), ...outer];
}

const dir = (names) => `^(${names.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layers.map((layer) => ({
      name: `${layer}-imports-only-inward`,
      comment: `${layer}/ may import only the layers inside it (${layers.slice(0, layers.indexOf(layer)).join(', ') || 'none'}).`,
      severity: 'error',
      from: { path: `^${layer}/` },
      to: { path: dir(outward(layer)) },
    })),
    {
      name: 'outer-layers-do-not-import-each-other',
      comment: 'web/, workers/ and scripts/ are separate entry points; what they share lives in an inner layer.',
      severity: 'error',
      from: { path: '^(web|workers)/' },
      to: { path: dir(outer), pathNot: '^$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.tools)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};

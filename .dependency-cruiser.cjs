// Layers as rules (issue 11). Each layer imports only the layers inside it:
//   domain <- infra <- activities <- workflows <- usecases <- web, workers, scripts
// `npm run lint` runs depcruise with this file; test/unit/layers.test.ts proves a wrong-way import fails.
// One exception, named `activities-import-only-workflow-messages`: an activity that signals or updates a
// workflow imports that workflow's message definitions (workflows/*-messages.ts: names and payload types,
// no workflow code), never a workflow itself.
const layers = ['domain', 'infra', 'activities', 'workflows', 'usecases'];
const outer = ['web', 'workers', 'scripts'];
const dir = (names) => `^(${names.join('|')})/`;

function inwardOnly(layer) {
  const i = layers.indexOf(layer);
  // activities -> workflows is judged by the narrower rule below.
  const forbidden = [...layers.slice(i + 1), ...outer].filter((l) => !(layer === 'activities' && l === 'workflows'));
  return {
    name: `${layer}-imports-only-inward`,
    comment: `${layer}/ may import only ${layers.slice(0, i).join(', ') || 'itself and libraries'}.`,
    severity: 'error',
    from: { path: `^${layer}/` },
    to: { path: dir(forbidden) },
  };
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layers.map(inwardOnly),
    {
      name: 'activities-import-only-workflow-messages',
      comment: 'An activity may import a workflow\'s message definitions (workflows/*-messages.ts), nothing else of workflows/.',
      severity: 'error',
      from: { path: '^activities/' },
      to: { path: '^workflows/', pathNot: '^workflows/[^/]+-messages\\.ts$' },
    },
    {
      name: 'only-workers-and-workflows-import-activities',
      comment: 'Activities run in the workers (workflows name them by type); a use-case starts a workflow instead of calling one, and what both need lives in infra/ or domain/.',
      severity: 'error',
      from: { path: dir(['usecases', 'web', 'scripts']) },
      to: { path: '^activities/' },
    },
    {
      name: 'web-and-workers-do-not-import-each-other',
      comment: 'web/ and workers/ are separate processes; what they share lives in an inner layer (scripts/ may start either).',
      severity: 'error',
      from: { path: '^(web|workers)/' },
      to: { path: '^(web|workers|scripts)/', pathNot: '^$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.tools)/' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};

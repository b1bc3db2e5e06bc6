// Pure domain rules (no I/O, no Node built-ins): safe to import from web routes, activities and Temporal
// workflow code alike.
export * from './errors';
export * from './uscc';
export * from './resident-id';
export * from './districts';
export * from './holders';
export * from './seals';
export * from './numbering';
export * from './materials';
export * from './calendar';
export * from './seal-text';
export * from './replacement';

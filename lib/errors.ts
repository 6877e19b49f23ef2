/**
 * Bad input, detected before anything was changed: a policy, an argument or event field, credentials that cannot be
 * used, a manifest or a notice that may not be applied. Every such error extends this class, so that an entry point
 * tells them apart with `instanceof` (the CLI exits 2 for them) and the next one added is never forgotten by a list
 * of names.
 */
export class InvalidInput extends Error {}

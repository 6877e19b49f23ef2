/** asl-validator ships no type declarations for its entry: the one call the deploy tests make. */
declare module 'asl-validator' {
  const validator: (definition: unknown) => { isValid: boolean; errors: unknown[] };
  export default validator;
}

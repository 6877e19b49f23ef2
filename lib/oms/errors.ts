/** An OMS answer with a 2xx status whose body is not what the API documents (HTML, no `tasks` array, wrong id). */
export class OmsResponseError extends Error {
  override name = 'OmsResponseError';
  readonly path: string;

  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`OMS answer to ${path} is unusable: ${problem}`, options);
    this.path = path;
  }
}

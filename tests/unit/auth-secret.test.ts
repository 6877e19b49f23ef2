import { CredentialsError } from '../../lib/auth/errors.js';
import { parseCredentialsSecret } from '../../lib/auth/secret.js';
import { SECRET_HEADER_NAMES, isSecretHeader, secretValues } from '../../lib/auth/secrets.js';

const LEAKS = ['SK-SHOULD-NOT-LEAK', 'TOKEN-SHOULD-NOT-LEAK', 'PASSWORD-SHOULD-NOT-LEAK', 'STS-SHOULD-NOT-LEAK', '424242'];

/** Parses, expects a CredentialsError, checks that no distinctive value leaks, and returns the message. */
function failure(value: unknown, raw?: string): CredentialsError {
  const text = raw ?? JSON.stringify(value);
  let caught: unknown;
  try {
    parseCredentialsSecret(text, 'prod/oms');
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CredentialsError);
  const error = caught as CredentialsError;
  expect(error.name).toBe('CredentialsError');
  const everything = `${error.message} ${String(error.stack)} ${JSON.stringify(error)} ${String((error as { cause?: unknown }).cause)}`;
  for (const leak of LEAKS) expect(everything).not.toContain(leak);
  expect(error.message).toContain('secret "prod/oms"');
  return error;
}

describe('parseCredentialsSecret: valid shapes', () => {
  it('reads each of the three shapes', () => {
    expect(parseCredentialsSecret('{"type":"token","token":"t"}', 's')).toEqual({ type: 'token', token: 't' });
    expect(parseCredentialsSecret('{"type":"aksk","ak":"a","sk":"b"}', 's')).toEqual({ type: 'aksk', ak: 'a', sk: 'b' });
    expect(parseCredentialsSecret('{"type":"aksk","ak":"a","sk":"b","securityToken":"c"}', 's')).toEqual({
      type: 'aksk', ak: 'a', sk: 'b', securityToken: 'c',
    });
    expect(
      parseCredentialsSecret('{"type":"password","domain":"d","username":"u","password":"p w","iamEndpoint":"https://iam.example.com/"}', 's'),
    ).toEqual({ type: 'password', domain: 'd', username: 'u', password: 'p w', iamEndpoint: 'https://iam.example.com' });
  });

  it.each(['http://127.0.0.1:8080', 'http://localhost:1', 'http://[::1]:9'])('allows http on loopback: %s', (iamEndpoint) => {
    const secret = JSON.stringify({ type: 'password', domain: 'd', username: 'u', password: 'p', iamEndpoint });
    expect(parseCredentialsSecret(secret, 's')).toMatchObject({ iamEndpoint });
  });
});

describe('parseCredentialsSecret: errors name the field and never echo a value', () => {
  it('not JSON', () => {
    expect(failure(undefined, '{"type":"aksk","sk":"SK-SHOULD-NOT-LEAK"').message).toBe('secret "prod/oms" is not JSON');
  });

  it.each([['an array', ['SK-SHOULD-NOT-LEAK']], ['a string', 'SK-SHOULD-NOT-LEAK'], ['null', null], ['a number', 424242]])(
    'not an object: %s',
    (_what, value) => {
      expect(failure(value).message).toBe('secret "prod/oms" must be a JSON object');
    },
  );

  it('type missing or unknown or not a string', () => {
    expect(failure({ sk: 'SK-SHOULD-NOT-LEAK' }).message).toContain('field "type" is missing');
    expect(failure({ type: 'TOKEN-SHOULD-NOT-LEAK' }).message).toBe('secret "prod/oms": field "type" must be one of token, aksk, password');
    expect(failure({ type: 424242 }).message).toContain('field "type" must be one of token, aksk, password');
  });

  it('token shape', () => {
    expect(failure({ type: 'token' }).message).toBe('secret "prod/oms": field "token" is missing');
    expect(failure({ type: 'token', token: 424242 }).message).toBe('secret "prod/oms": field "token" must be a string');
    expect(failure({ type: 'token', token: '' }).message).toContain('field "token" must not be empty');
    expect(failure({ type: 'token', token: 'TOKEN-SHOULD-NOT-LEAK\n' }).message).toContain('field "token" must not have surrounding whitespace');
    const unknown = failure({ type: 'token', token: 'TOKEN-SHOULD-NOT-LEAK', sk: 'SK-SHOULD-NOT-LEAK' });
    expect(unknown.message).toBe('secret "prod/oms": field "sk" is not allowed for type "token"');
    expect(unknown.field).toBe('sk');
  });

  it('aksk shape', () => {
    const missing = failure({ type: 'aksk', ak: 'AK1' });
    expect(missing.message).toBe('secret "prod/oms": field "sk" is missing');
    expect(missing.field).toBe('sk');
    expect(failure({ type: 'aksk', sk: 'SK-SHOULD-NOT-LEAK' }).message).toContain('field "ak" is missing');
    expect(failure({ type: 'aksk', ak: 'AK1', sk: { v: 'SK-SHOULD-NOT-LEAK' } }).message).toContain('field "sk" must be a string');
    expect(failure({ type: 'aksk', ak: 'AK1', sk: 'SK-SHOULD-NOT-LEAK', securityToken: 424242 }).message).toContain(
      'field "securityToken" must be a string',
    );
    expect(failure({ type: 'aksk', ak: 'AK1', sk: 'SK-SHOULD-NOT-LEAK', securityTokn: 'STS-SHOULD-NOT-LEAK' }).message).toContain(
      'field "securityTokn" is not allowed for type "aksk"',
    );
  });

  it('password shape', () => {
    const base = { type: 'password', domain: 'd', username: 'u', password: 'PASSWORD-SHOULD-NOT-LEAK' };
    expect(failure({ ...base, password: undefined }).message).toContain('field "password" is missing');
    expect(failure({ ...base, username: 424242 }).message).toContain('field "username" must be a string');
    expect(failure({ ...base, domain: '' }).message).toContain('field "domain" must not be empty');
    expect(failure({ ...base, iamEndpoint: 'http://iam.example.com' }).message).toContain('field "iamEndpoint" must be a base URL');
    expect(failure({ ...base, iamEndpoint: 'not a url' }).message).toContain('field "iamEndpoint" must be a base URL');
    expect(failure({ ...base, region: 'cn-north-4' }).message).toContain('field "region" is not allowed for type "password"');
  });

  it('several problems are all named', () => {
    const message = failure({ type: 'aksk', sk: 424242, extra: 'SK-SHOULD-NOT-LEAK' }).message;
    expect(message).toContain('field "ak" is missing');
    expect(message).toContain('field "sk" must be a string');
    expect(message).toContain('field "extra" is not allowed');
  });
});

describe('redaction helpers', () => {
  it('lists every secret value of each shape', () => {
    expect(secretValues({ type: 'token', token: 't' })).toEqual(['t']);
    expect(secretValues({ type: 'aksk', ak: 'a', sk: 's' })).toEqual(['s']);
    expect(secretValues({ type: 'aksk', ak: 'a', sk: 's', securityToken: 'x' })).toEqual(['s', 'x']);
    expect(secretValues({ type: 'password', domain: 'd', username: 'u', password: 'p' })).toEqual(['p']);
  });

  it('knows the credential headers in any case', () => {
    expect(SECRET_HEADER_NAMES).toEqual(expect.arrayContaining(['authorization', 'x-auth-token', 'x-security-token', 'x-subject-token']));
    expect(isSecretHeader('X-Auth-Token')).toBe(true);
    expect(isSecretHeader('X-Request-Id')).toBe(false);
  });
});

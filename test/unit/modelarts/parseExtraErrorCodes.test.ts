import { describe, expect, it } from 'vitest';
import { classifyAnswer, classifyResponse, isBisectable, isRetryable } from '../../../lib/modelarts/classifyFailure.js';
import { parseExtraErrorCodes } from '../../../lib/modelarts/parseExtraErrorCodes.js';

describe('parseExtraErrorCodes', () => {
  it('reads comma-separated kind:code pairs, blanks ignored', () => {
    // Act
    const codes = parseExtraErrorCodes(' throttled:ModelArts.9001, busy:ModelArts.4713 ,,whole_request:ModelArts.4205,already_gone:ModelArts.4421 ');

    // Assess
    expect([...codes]).toEqual([
      ['ModelArts.9001', 'throttled'], ['ModelArts.4713', 'busy'], ['ModelArts.4205', 'whole_request'], ['ModelArts.4421', 'already_gone'],
    ]);
  });

  it('adds nothing for an empty text', () => {
    // Act
    const codes = parseExtraErrorCodes('');

    // Assess
    expect(codes.size).toBe(0);
  });

  it.each([
    ['retryable:ModelArts.1234', 'kind one of throttled, transient, busy, already_gone, permanent, whole_request'],
    ['ModelArts.1234', 'expected kind:code'],
    ['throttled:', 'expected a service error code'],
    ['throttled:TIME_BUDGET_SPENT', 'expected a service error code'],
    ['transient:HTTP_503', 'expected a service error code'],
    ['transient:Model Arts.1', 'expected a service error code'],
    ['transient:ModelArts.1,permanent:ModelArts.1', 'ModelArts.1 is given twice'],
  ])('refuses %j, naming the item', (text, message) => {
    // Act
    const act = () => parseExtraErrorCodes(text);

    // Assess
    expect(act).toThrow(message);
  });

  it('gives the classifier what each kind means: the class, and whole_request and busy never bisected', () => {
    // Prepare
    const extra = parseExtraErrorCodes('throttled:X.1,transient:X.2,busy:X.3,already_gone:X.4,permanent:X.5,whole_request:X.6,transient:ModelArts.4420');
    const failure = (code: string) => classifyAnswer({ status: 400, code, fallbackCode: 'UNKNOWN', message: 'refused' }, extra);

    // Act
    const classes = ['X.1', 'X.2', 'X.3', 'X.4', 'X.5', 'X.6', 'ModelArts.4420'].map((code) => classifyResponse(400, code, extra));

    // Assess: a deployment's code wins over the built-in table (4420 re-classified here).
    expect(classes).toEqual(['throttled', 'transient', 'transient', 'already_gone', 'permanent', 'permanent', 'transient']);
    expect(classifyResponse(400, 'X.1')).toBe('permanent');
    expect(['X.4', 'X.5', 'X.6'].map((code) => isBisectable(failure(code)))).toEqual([true, true, false]);
    expect(isRetryable(failure('X.3'))).toBe(true);
    expect(failure('X.3').retryAfterMs).toBe(30_000);
    expect(isBisectable({ ...failure('X.3'), failureClass: 'permanent' })).toBe(false);
  });
});

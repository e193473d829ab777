import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalRequest, formatSdkDate, signRequest } from '../../../lib/modelarts/signRequest.js';

// The documented SDK-HMAC-SHA256 test vector (see /work/shared/reference/modelarts-api.md §4).
const VECTOR = {
  request: {
    method: 'GET',
    url: new URL('https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0'),
    headers: { 'content-type': 'application/json', host: 'service.region.example.com', 'x-sdk-date': '20191115T033655Z' },
    body: '',
  },
  credentials: { accessKey: 'QTWAOYTTINDUT2QVKYUC', secretKey: 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc' },
  canonicalRequestHash: 'b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a',
  signature: '7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe',
};

describe('signRequest', () => {
  it('reproduces the documented test vector byte for byte: canonical-request hash, signature, Authorization header', () => {
    // Act
    const signed = signRequest(VECTOR.request, VECTOR.credentials);

    // Assess
    expect(signed.canonicalRequestHash).toBe(VECTOR.canonicalRequestHash);
    expect(signed.signature).toBe(VECTOR.signature);
    expect(signed.authorization).toBe(
      `SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=${VECTOR.signature}`,
    );
  });

  it('builds the canonical request as documented: path ending in /, query sorted by raw names and values then encoded, trimmed sorted headers, body hash', () => {
    // Prepare
    const request = {
      method: 'post',
      url: new URL('https://h.example.com/v1/p%20q/data-annotations/28*2/images/delete?b=2&a=x y&a=&c&a%C3%A9=4&az=3'),
      headers: { 'X-Sdk-Date': ' 20191115T033655Z ', Host: 'h.example.com', 'Content-Type': 'application/json' },
      body: '{"image_id":["a"]}',
    };

    // Act
    const { canonical, signedHeaders } = canonicalRequest(request);

    // Assess
    expect(canonical.split('\n')).toEqual([
      'POST',
      '/v1/p%20q/data-annotations/28%2A2/images/delete/',
      'a=&a=x%20y&az=3&a%C3%A9=4&b=2&c=',
      'content-type:application/json',
      'host:h.example.com',
      'x-sdk-date:20191115T033655Z',
      '',
      'content-type;host;x-sdk-date',
      createHash('sha256').update('{"image_id":["a"]}').digest('hex'),
    ]);
    expect(signedHeaders).toBe('content-type;host;x-sdk-date');
  });

  it('signs every header it is given, so a security token and a project ID are covered by the signature', () => {
    // Prepare
    const base = { ...VECTOR.request, headers: { ...VECTOR.request.headers, 'x-security-token': 'st', 'x-project-id': 'p' } };

    // Act
    const signed = signRequest(base, VECTOR.credentials);
    const tampered = signRequest({ ...base, headers: { ...base.headers, 'x-project-id': 'q' } }, VECTOR.credentials);

    // Assess
    expect(signed.signedHeaders).toBe('content-type;host;x-project-id;x-sdk-date;x-security-token');
    expect(tampered.signature).not.toBe(signed.signature);
  });

  it('refuses to sign without x-sdk-date', () => {
    // Act
    const act = () => signRequest({ ...VECTOR.request, headers: { host: 'h' } }, VECTOR.credentials);

    // Assess
    expect(act).toThrow('x-sdk-date');
  });

  it('formats X-Sdk-Date as UTC YYYYMMDDTHHMMSSZ', () => {
    // Act
    const date = formatSdkDate(Date.UTC(2019, 10, 15, 3, 36, 55, 789));

    // Assess
    expect(date).toBe('20191115T033655Z');
  });
});

import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import type { ICredential } from '@huaweicloud/huaweicloud-sdk-core/auth/ICredential.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ModelArtsEmulator } from '../../../local/emulator/modelArtsEmulator.js';

// The emulator's behaviours added for issue 13, over HTTP: non-JSON error pages, v2 answers that
// confirm nothing per sample, and a gateway that accepts what Huawei's own SDK core signs.
const PROJECT = '0123456789abcdef0123456789abcdef';
const DATASET = 'WxCREuCkBSAlQr9xrde';
const SAMPLES = ['0123456789abcdef0123456789abcde1', '0123456789abcdef0123456789abcde2', '0123456789abcdef0123456789abcde3'];
// Made up for this file.
const AK = 'EMULATORTESTAKEXAMPL';
const SK = 'emulator-test-secret-key-not-a-real-one0';

let emulator: ModelArtsEmulator;

beforeAll(async () => {
  emulator = new ModelArtsEmulator();
  emulator.auth.accessKeys.push({ accessKey: AK, secretKey: SK });
  await emulator.start();
});
afterAll(async () => {
  await emulator.stop();
});
beforeEach(() => {
  emulator.requests.length = 0;
  emulator.clearFaults();
  emulator.settings.auth = 'none';
  emulator.seedDataset(PROJECT, DATASET, SAMPLES);
});

async function deleteSamples(samples: string[], init: { headers?: Record<string, string>; query?: string } = {}) {
  const response = await fetch(`${emulator.url}/v2/${PROJECT}/datasets/${DATASET}/data-annotations/samples/delete${init.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify({ samples }),
  });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

describe('ModelArtsEmulator faults of issue 13', () => {
  it('answers a rawBody fault with that text as text/html, deleting nothing', async () => {
    // Prepare
    emulator.injectFaults({ status: 502, rawBody: '<html><body>502 Bad Gateway</body></html>' });

    // Act
    const answer = await deleteSamples(SAMPLES);

    // Assess
    expect(answer).toEqual({ status: 502, contentType: 'text/html', text: '<html><body>502 Bad Gateway</body></html>' });
    expect(emulator.datasetSamples(PROJECT, DATASET).size).toBe(3);
  });

  it('short_results: deletes the samples, then answers 200 with one result fewer than the samples sent', async () => {
    // Prepare
    emulator.injectFaults({ v2Answer: 'short_results' });

    // Act
    const answer = await deleteSamples(SAMPLES);

    // Assess
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ success: false, results: [{ success: true }, { success: true }] });
    expect(emulator.datasetSamples(PROJECT, DATASET).size).toBe(0);
  });

  it('no_results: deletes the samples, then answers 200 success: false with no results (and the code, when given)', async () => {
    // Prepare
    emulator.injectFaults({ v2Answer: 'no_results' }, { v2Answer: 'no_results', errorCode: 'ModelArts.4712', errorMessage: 'busy' });

    // Act
    const bare = await deleteSamples(SAMPLES.slice(0, 1));
    const coded = await deleteSamples(SAMPLES.slice(1));

    // Assess
    expect(JSON.parse(bare.text)).toEqual({ success: false });
    expect(JSON.parse(coded.text)).toEqual({ success: false, error_code: 'ModelArts.4712', error_msg: 'busy' });
    expect(emulator.datasetSamples(PROJECT, DATASET).size).toBe(0);
  });

  it('clearFaults drops the faults not used yet', async () => {
    // Prepare
    emulator.injectFaults({ status: 503, times: 5 });

    // Act
    emulator.clearFaults();
    const answer = await deleteSamples(SAMPLES);

    // Assess
    expect(answer.status).toBe(200);
  });
});

describe("ModelArtsEmulator's gateway and Huawei's SDK core signer", () => {
  it('accepts a request signed by the SDK core with a query mixing ASCII and non-ASCII names (?az=1&aé=2)', async () => {
    // Prepare: the SDK signs the raw names in their raw order (az before aé).
    emulator.settings.auth = 'aksk';
    const host = new URL(emulator.url).host;
    const path = `/v2/${PROJECT}/datasets/${DATASET}/data-annotations/samples/delete`;
    const signed = AKSKSigner.sign(
      { method: 'POST', endpoint: `${emulator.url}${path}`, queryParams: { aé: '2', az: '1' }, headers: { host, 'content-type': 'application/json' }, data: { samples: SAMPLES } },
      { getAk: () => AK, getSk: () => SK } as unknown as ICredential,
    ) as Record<string, string>;

    // Act
    const answer = await deleteSamples(SAMPLES, {
      query: `?az=1&${encodeURIComponent('aé')}=2`,
      headers: { authorization: signed.Authorization ?? '', 'x-sdk-date': signed['X-Sdk-Date'] ?? '' },
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(emulator.datasetSamples(PROJECT, DATASET).size).toBe(0);
  });
});

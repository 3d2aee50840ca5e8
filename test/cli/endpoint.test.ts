import { describe, expect, it } from 'vitest';
import { endpointWarning } from '../../cli/endpoint.ts';
import { cliHarness } from './helpers.ts';

describe('endpointWarning', () => {
  it.each([
    ['http://127.0.0.1:5000'],
    ['http://localhost:4566'],
    ['http://[::1]:5000'],
    ['https://states.eu-west-1.amazonaws.com'],
    ['https://dynamodb.us-east-1.api.aws'],
    ['https://sns.cn-north-1.amazonaws.com.cn'],
    [undefined],
    [''],
  ])('is silent for %s', (url) => {
    expect(endpointWarning(url, '--endpoint-url')).toBeUndefined();
  });

  it.each([
    ['http://10.0.0.5:5000'],
    ['https://aws.example.com'],
    ['https://amazonaws.com.evil.example'],
    ['http://192.168.1.20'],
    ['https://localhost.evil.example'],
  ])('warns for %s, naming it', (url) => {
    expect(endpointWarning(url, 'AWS_ENDPOINT_URL')).toMatch(
      new RegExp(
        `^warning: AWS_ENDPOINT_URL sends every AWS call, signed with your credentials, to ${url.replace(/[.[\]]/g, '\\$&')}`,
      ),
    );
  });
});

describe('the CLI warns about an endpoint that is neither AWS nor loopback', () => {
  it('from --endpoint-url, on stderr, and still runs the command', async () => {
    const r = await cliHarness().run('status', '--json', '--endpoint-url', 'https://proxy.example.net');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^warning: --endpoint-url sends every AWS call, .* to https:\/\/proxy\.example\.net,/,
    );
  });

  it('from AWS_ENDPOINT_URL', async () => {
    const r = await cliHarness({ processEnv: { AWS_ENDPOINT_URL: 'http://203.0.113.9:5000' } }).run('status');
    expect(r.stderr).toMatch(/^warning: AWS_ENDPOINT_URL sends every AWS call/);
  });

  it('not for moto_server on loopback', async () => {
    const r = await cliHarness({ processEnv: { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' } }).run('status');
    expect(r.stderr).toBe('');
  });
});

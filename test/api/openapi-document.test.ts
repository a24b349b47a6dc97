import assert from 'node:assert/strict';
import fs from 'node:fs';
import { before, describe, it } from 'node:test';
import { OPENAPI_FILE, openApiText } from '../../scripts/write-openapi.js';

type Schema = { type?: unknown; title?: string; properties?: Record<string, Schema>; items?: Schema };
type Operation = {
  summary?: string;
  security?: unknown[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
};
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; in?: string; name?: string }> };
  security: Record<string, unknown[]>[];
};

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

describe('docs/openapi.json', () => {
  let generated = '';
  const doc = () => JSON.parse(generated) as Doc;
  const op = (method: string, p: string) => {
    const o = doc().paths[p]?.[method];
    assert.ok(o, `${method.toUpperCase()} ${p} is documented`);
    return o;
  };
  const body = (method: string, p: string) => op(method, p).requestBody!.content['application/json']!.schema;
  const ok = (method: string, p: string, status = '200') =>
    op(method, p).responses[status]!.content!['application/json']!.schema;

  before(async () => {
    generated = await openApiText();
  });

  it('is what `npm run openapi` writes from the route schemas (regenerate it after an API change)', () => {
    assert.ok(
      fs.readFileSync(OPENAPI_FILE, 'utf8') === generated,
      'docs/openapi.json is stale: run `npm run openapi` and commit the result',
    );
  });

  it('gives every operation a summary', () => {
    const missing: string[] = [];
    let operations = 0;
    for (const [p, item] of Object.entries(doc().paths)) {
      for (const [method, o] of Object.entries(item)) {
        if (!METHODS.has(method)) continue;
        operations++;
        if (!o.summary?.trim()) missing.push(`${method.toUpperCase()} ${p}`);
      }
    }
    assert.ok(operations > 50, `found ${operations} operations`);
    assert.deepEqual(missing, [], 'operations without a summary');
  });

  it('documents the X-Octopus-ApiKey header as the security scheme, and the anonymous routes as such', () => {
    const d = doc();
    assert.deepEqual(
      { type: d.components.securitySchemes.ApiKey?.type, in: d.components.securitySchemes.ApiKey?.in },
      { type: 'apiKey', in: 'header' },
    );
    assert.equal(d.components.securitySchemes.ApiKey?.name, 'X-Octopus-ApiKey');
    assert.ok(d.security.some((s) => 'ApiKey' in s));
    assert.deepEqual(op('get', '/api').security, []);
    assert.equal(op('get', '/api/{spaceId}/projects').security, undefined, 'the default applies');
  });

  it('types the deployment process: steps, actions and their properties, as Octopus names them', () => {
    for (const p of [
      '/api/{spaceId}/projects/{id}/deploymentprocesses',
      '/api/{spaceId}/deploymentprocesses/{id}',
    ]) {
      for (const schema of [body('put', p), ok('put', p), ok('get', p)]) {
        assert.equal(schema.title, 'DeploymentProcessResource');
        const step = schema.properties!.Steps!.items!;
        assert.equal(step.title, 'DeploymentStepResource');
        for (const f of ['Id', 'Name', 'Condition', 'StartTrigger', 'Properties', 'Actions'])
          assert.ok(step.properties![f], `step ${f}`);
        const action = step.properties!.Actions!.items!;
        assert.equal(action.title, 'DeploymentActionResource');
        for (const f of ['Id', 'Name', 'ActionType', 'IsDisabled', 'Environments', 'Packages', 'Properties'])
          assert.ok(action.properties![f], `action ${f}`);
      }
    }
  });

  it('types release and deployment create and read', () => {
    const release = body('post', '/api/{spaceId}/releases/create/v1');
    assert.equal(release.title, 'CreateReleaseCommandV1');
    for (const f of ['ProjectName', 'ReleaseVersion', 'ChannelName', 'ReleaseNotes', 'IgnoreIfAlreadyExists'])
      assert.ok(release.properties![f], `release command ${f}`);
    assert.equal(ok('post', '/api/{spaceId}/releases/create/v1').title, 'CreateReleaseResponseV1');
    assert.equal(ok('get', '/api/{spaceId}/releases/{id}').title, 'ReleaseResource');
    assert.equal(body('post', '/api/{spaceId}/releases').title, 'ReleaseResource');

    const deploy = body('post', '/api/{spaceId}/deployments/create/untenanted/v1');
    assert.equal(deploy.title, 'CreateDeploymentUntenantedCommandV1');
    for (const f of ['ProjectName', 'ReleaseVersion', 'EnvironmentNames', 'Variables', 'SkipStepNames'])
      assert.ok(deploy.properties![f], `deployment command ${f}`);
    const created = ok('post', '/api/{spaceId}/deployments/create/untenanted/v1');
    assert.equal(created.title, 'CreateDeploymentUntenantedResponseV1');
    assert.equal(created.properties!.DeploymentServerTasks!.items!.title, 'DeploymentServerTask');
    assert.equal(ok('get', '/api/{spaceId}/deployments/{id}').title, 'DeploymentResource');
    assert.equal(body('post', '/api/{spaceId}/deployments').title, 'DeploymentResource');
  });
});

// Renders real ERB with Ruby's own erb through renderer.rb: p, if_p/else, spec fields, links,
// and template errors with BOSH's exact messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobManifest } from '@refit/protocol';
import {
  renderJobTemplates,
  type RenderJobInput,
  type TemplateInstanceSpec,
} from './render-job-templates.ts';
import { JobTemplateRenderFailed, TemplateRendererFailed } from './template-errors.ts';

const spec: TemplateInstanceSpec = {
  deployment: 'shop',
  name: 'web',
  id: '5efd2cb8-d73b-4e45-6df4-58f5dd5ec2ec',
  index: 1,
  az: 'z2',
  bootstrap: false,
  address: '127.0.10.3',
  ip: '127.0.10.3',
  networks: { default: { ip: '127.0.10.3', netmask: '255.255.255.0', gateway: '127.0.10.1' } },
  persistentDisk: 1024,
};

function job(
  templates: Record<string, string>,
  extra: Partial<JobManifest> = {},
): Omit<RenderJobInput, 'spec'> {
  const sources = Object.keys(templates);
  return {
    jobSpec: JobManifest.parse({
      name: 'nginx',
      templates: Object.fromEntries(sources.map((s) => [s, `config/${s.replace(/\.erb$/, '')}`])),
      properties: {
        port: { default: 80 },
        'tls.enabled': { default: false },
        'tls.cert': {},
        'upstream.hosts': { default: [] },
        name: {},
      },
      ...extra,
    }),
    templates: new Map(Object.entries(templates)),
    monit: 'check process nginx\n  with pidfile /var/vcap/sys/run/<%= name %>/pid\n',
    manifestProperties: { port: 8443, tls: { cert: 'PEM' }, undeclared: 'hidden' },
    release: { name: 'web-release', version: '1.2' },
  };
}

async function render(templates: Record<string, string>, overrides: Partial<RenderJobInput> = {}) {
  return renderJobTemplates({ ...job(templates), spec, ...overrides });
}

async function failure(templates: Record<string, string>, overrides: Partial<RenderJobInput> = {}) {
  const error = await render(templates, overrides).then(
    () => assert.fail('rendering should have failed'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof JobTemplateRenderFailed, String(error));
  return error;
}

describe('renderJobTemplates (Ruby ERB)', () => {
  it('renders p with job spec defaults and manifest values, dotted names, and the monit file', async () => {
    const out = await render({
      'a.conf.erb': [
        'port <%= p("port") %>;',
        'tls <%= p("tls.enabled") %> <%= p("tls.cert") %>',
        'hosts <%= p("upstream.hosts").inspect %> fallback <%= p("nope", "dflt") %>',
        'first <%= p(["nope", "port"]) %>',
        '<%- if p("tls.enabled") -%>',
        'never',
        '<%- end -%>',
        'end',
      ].join('\n'),
    });
    assert.equal(
      out.files.get('config/a.conf'),
      'port 8443;\ntls false PEM\nhosts [] fallback dflt\nfirst 8443\nend',
    );
    assert.equal(out.monit, 'check process nginx\n  with pidfile /var/vcap/sys/run/web/pid\n');
    assert.match(out.configurationHash, /^[0-9a-f]{40}$/);
  });

  it('if_p runs its block with the values, else its else; undeclared properties are invisible', async () => {
    const out = await render({
      'b.erb': [
        '<% if_p("tls.cert", "port") do |cert, port| %>cert=<%= cert %>:<%= port %><% end %>',
        '<% if_p("name") do |n| %>named <%= n %><% end.else do %>unnamed<% end %>',
        '<% if_p("undeclared") do |u| %>seen <%= u %><% end.else do %>hidden<% end %>',
        '<% if_p("name") do %>x<% end.else_if_p("port") do |p| %>port <%= p %><% end %>',
      ].join('\n'),
    });
    assert.equal(out.files.get('config/b'), 'cert=PEM:8443\nunnamed\nhidden\nport 8443');
  });

  it('gives spec fields, name and index as BOSH does', async () => {
    const out = await render({
      'c.erb':
        '<%= spec.deployment %> <%= spec.name %> <%= spec.job.name %> <%= name %> <%= index %> <%= spec.index %> ' +
        '<%= spec.id %> <%= spec.az %> <%= spec.bootstrap %> <%= spec.address %> <%= spec.ip %> ' +
        '<%= spec.networks.default.gateway %> <%= spec.persistent_disk %> <%= spec.release.name %>/<%= spec.release.version %> ' +
        '<%= spec.properties.port %>',
    });
    assert.equal(
      out.files.get('config/c'),
      'shop web web web 1 1 5efd2cb8-d73b-4e45-6df4-58f5dd5ec2ec z2 false 127.0.10.3 127.0.10.3 127.0.10.1 1024 web-release/1.2 8443',
    );
  });

  it('resolves links: instances, p, address, and if_link with else', async () => {
    const out = await render(
      {
        'd.erb': [
          '<%= link("db").instances.map { |i| "#{i.name}/#{i.index}@#{i.address}" }.join(",") %>',
          '<%= link("db").p("port") %> <%= link("db").p("missing", 1) %> <%= link("db").address %>',
          '<%= link("db").instances.first.p("role") %>',
          '<% if_link("cache") do |c| %>cache<% end.else do %>no cache<% end %>',
          '<% if_link("db") do |d| %>db has <%= d.instances.size %><% end %>',
        ].join('\n'),
      },
      {
        links: {
          db: {
            instances: [
              {
                name: 'pg',
                index: 0,
                id: 'a',
                az: 'z1',
                address: '127.0.20.2',
                bootstrap: true,
                properties: { role: 'primary' },
              },
              { name: 'pg', index: 1, id: 'b', az: 'z2', address: '127.0.20.3', bootstrap: false },
            ],
            properties: { port: 5432 },
            address: 'q-s0.pg.default.shop.bosh',
          },
        },
      },
    );
    assert.equal(
      out.files.get('config/d'),
      'pg/0@127.0.20.2,pg/1@127.0.20.3\n5432 1 q-s0.pg.default.shop.bosh\nprimary\nno cache\ndb has 2',
    );
  });

  it('fails with BOSH messages: missing property, raise, unknown link, syntax error (job, file, line)', async () => {
    const error = await failure({
      'ok.erb': 'fine <%= p("port") %>',
      'missing.erb': 'line one\nline two <%= p("name") %>\n',
      'raises.erb': '\n\n<% raise "the release says no" %>\n',
      'link.erb': '<%= link("nowhere").instances %>',
      'syntax.erb': 'a\n<% if true %>\nb\n',
    });
    assert.equal(error.code, 80006);
    assert.equal(error.job, 'nginx');
    assert.deepEqual(
      error.failures.map((f) => [f.file, f.line]),
      [
        ['link.erb', 1],
        ['missing.erb', 2],
        ['raises.erb', 3],
        ['syntax.erb', 4],
      ],
    );
    assert.equal(
      error.message,
      [
        "Unable to render templates for job 'nginx'. Errors are:",
        "  - Error filling in template 'link.erb' (line 1: Can't find link 'nowhere')",
        `  - Error filling in template 'missing.erb' (line 2: Can't find property '["name"]')`,
        "  - Error filling in template 'raises.erb' (line 3: the release says no)",
        "  - Error filling in template 'syntax.erb' (line 4: syntax error, unexpected end-of-input, expecting `end')",
      ].join('\n'),
    );
  });

  it('reports an error in the monit file as the monit template', async () => {
    const error = await failure({}, { monit: 'check process <%= p("name") %>\n' });
    assert.equal(
      error.message,
      "Unable to render templates for job 'nginx'. Errors are:\n" +
        `  - Error filling in template 'monit' (line 1: Can't find property '["name"]')`,
    );
  });

  it('refuses a property path through a non-hash value', async () => {
    await assert.rejects(render({ 'e.erb': 'x' }, { manifestProperties: { tls: 'yes' } }), {
      message: "Property 'tls.enabled' expects a hash, but received 'String'",
    });
  });

  it('kills a template that never ends, after the timeout', async () => {
    await assert.rejects(
      renderJobTemplates({ ...job({ 'loop.erb': '<% loop { } %>' }), spec }, { timeoutMs: 500 }),
      (error: unknown) =>
        error instanceof TemplateRendererFailed && /took longer than 500 ms/.test(error.message),
    );
  });

  it('says so when Ruby is missing', async () => {
    await assert.rejects(
      renderJobTemplates({ ...job({ 'a.erb': 'x' }), spec }, { ruby: '/nonexistent/ruby' }),
      { message: "Cannot render job templates: '/nonexistent/ruby' was not found (install Ruby)" },
    );
  });

  it('gives the same configuration hash for the same output and another for a change', async () => {
    const a = await render({ 'f.erb': '<%= p("port") %>' });
    const b = await render({ 'f.erb': '<%= p("port") %>' });
    const c = await render({ 'f.erb': '<%= p("port") %>' }, { manifestProperties: { port: 1 } });
    assert.equal(a.configurationHash, b.configurationHash);
    assert.notEqual(a.configurationHash, c.configurationHash);
  });
});

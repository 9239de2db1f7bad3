import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { text, version } from '../output.ts';
import { headerKey, jsonTable, renderJsonDocument } from './json-document.ts';

describe('--json document', () => {
  it('keys columns as the stock CLI', () => {
    assert.equal(headerKey('Object Type'), 'object_type');
    assert.equal(headerKey('Header & ( foo )  1 '), 'header_foo_1');
    assert.equal(headerKey('#'), '_');
  });

  it('renders Tables/Blocks/Lines like Go json.MarshalIndent', () => {
    const table = jsonTable({
      content: 'stemcells',
      header: ['Name', 'Version', '#'],
      rows: [
        [text('b'), version('1', '*'), text('x')],
        [text('a'), version('2'), text('')],
      ],
      sortBy: [{ column: 0, asc: true }],
      notes: ['(*) Currently deployed'],
    });
    const rendered = renderJsonDocument({ tables: [table], blocks: [], lines: ['1 <- 2 & more'] });
    assert.equal(
      rendered,
      [
        '{',
        '    "Tables": [',
        '        {',
        '            "Content": "stemcells",',
        '            "Header": {',
        '                "2": "#",',
        '                "name": "Name",',
        '                "version": "Version"',
        '            },',
        '            "Rows": [',
        '                {',
        '                    "2": "",',
        '                    "name": "a",',
        '                    "version": "2"',
        '                },',
        '                {',
        '                    "2": "x",',
        '                    "name": "b",',
        '                    "version": "1*"',
        '                }',
        '            ],',
        '            "Notes": [',
        '                "(*) Currently deployed"',
        '            ]',
        '        }',
        '    ],',
        '    "Blocks": null,',
        '    "Lines": [',
        '        "1 \\u003c- 2 \\u0026 more"',
        '    ]',
        '}',
      ].join('\n'),
    );
    assert.deepEqual(JSON.parse(rendered).Lines, ['1 <- 2 & more']);
  });
});

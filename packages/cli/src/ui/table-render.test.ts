import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { int, text, version, type TableData } from '../output.ts';
import { renderTable } from './table-render.ts';

const tty = { dataOnly: false };

describe('renderTable', () => {
  it('pads columns, ends every cell with the border, shows notes and the count footer', () => {
    const table: TableData = {
      content: 'things',
      header: ['Header1', 'Header2'],
      rows: [
        [text('r1c1'), text('r1c2')],
        [text('r2c1'), text('')],
      ],
      notes: ['note1'],
    };
    assert.equal(
      renderTable(table, tty),
      'Header1  Header2  \nr1c1     r1c2  \nr2c1     -  \n\nnote1\n\n2 things\n',
    );
  });

  it('sorts by columns (versions semver-ish) and replaces a repeated first column with ~', () => {
    const table: TableData = {
      header: ['Name', 'Version'],
      rows: [
        [text('b'), version('1.9')],
        [text('a'), version('1.10', '*')],
        [text('b'), version('1.10')],
        [text('a'), version('1.2')],
      ],
      sortBy: [
        { column: 0, asc: true },
        { column: 1, asc: false },
      ],
    };
    assert.equal(
      renderTable(table, tty),
      'Name  Version  \na     1.10*  \n~     1.2  \nb     1.10  \n~     1.9  \n',
    );
  });

  it('prints multi-line cells on several lines and an empty table with its header', () => {
    const table: TableData = { header: ['A', 'B'], rows: [[text('x'), text('one\ntwo')]], content: 'rows' };
    assert.equal(renderTable(table, tty), 'A  B  \nx  one  \n   two  \n\n1 rows\n');
    assert.equal(renderTable({ header: ['A'], rows: [], content: 'rows' }, tty), 'A  \n\n0 rows\n');
  });

  it('transposes one block per row', () => {
    const table: TableData = {
      header: ['Name', 'User'],
      rows: [
        [text('refit'), text('admin')],
        [text('other'), text('')],
      ],
      transpose: true,
    };
    assert.equal(renderTable(table, tty), 'Name  refit  \nUser  admin  \n\nName  other  \nUser  -  \n');
  });

  it('prints data only, tab separated, for piped output', () => {
    const table: TableData = {
      content: 'tasks',
      header: ['ID', 'State'],
      rows: [
        [int(2), text('done')],
        [int(10), text('done')],
      ],
      sortBy: [{ column: 0, asc: false }],
      notes: ['n'],
    };
    assert.equal(renderTable(table, { dataOnly: true }), '10\tdone\t\n2 \tdone\t\n');
  });
});

// `npm run security-report`: runs the escape battery (test/escape) and prints
// "attack — contained — how", then "N attacks tried, M succeeded".
import { runBattery } from '../test/escape/attacks.js';

const results = await runBattery();
const rows = results.map((r) => [`${r.threat} ${r.name}`, r.contained ? 'contained' : 'ESCAPED', r.how, r.differential]);
const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length), 8));
process.stdout.write(`${['attack', 'result', 'how'].map((h, i) => h.padEnd(widths[i]!)).join(' | ')} | differential\n`);
for (const row of rows)
  process.stdout.write(
    `${row
      .slice(0, 3)
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' | ')} | ${row[3]}\n`,
  );
const escaped = results.filter((r) => !r.contained).length;
process.stdout.write(`\n${results.length} attacks tried, ${escaped} succeeded\n`);
process.exitCode = escaped === 0 ? 0 : 1;

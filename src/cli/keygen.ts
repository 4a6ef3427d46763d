/**
 * ephemera keygen --out KEYFILE [--json] (declared in cli.ts)
 * Writes a result key file (docs/sealed.md §5: an X25519 key pair, hex) for
 * `submit --result-key` and `open --key`. The private key goes only into that
 * file: mode 0600, created exclusively, so an existing key (and the results
 * sealed to it) is never overwritten.
 */
import { writeFileSync } from 'node:fs';
import { EphemeraError } from '../errors.js';
import { generateResultKey } from '../seal/index.js';
import { nodeSealCrypto } from '../seal/node-aead.js';
import { printJson } from './common.js';

export async function keygen(options: { out: string; json?: boolean }): Promise<void> {
  const key = await generateResultKey(nodeSealCrypto);
  try {
    writeFileSync(options.out, `${JSON.stringify(key, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code;
    if (errno === 'EEXIST')
      throw new EphemeraError(
        'CLI_USAGE',
        `${options.out} already exists: a key file is never overwritten (results sealed to it would be lost); choose another path`,
      );
    throw new EphemeraError('CLI_OUT_UNWRITABLE', `cannot write ${options.out} (${errno ?? 'error'})`);
  }
  if (options.json) printJson({ file: options.out, suite: key.suite, public_key: key.public_key });
  else
    process.stdout.write(
      `wrote ${options.out} (mode 0600: it holds the private key; keep it, nobody else can open your results)\npublic key ${key.public_key}\nuse it: ephemera submit … --result-key ${options.out}, then ephemera open CERT.json --key ${options.out}\n`,
    );
}

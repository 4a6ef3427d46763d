import { EphemeraError, isEphemeraError } from '../errors.js';
import { parseResultKeyFile, type ResultKeyFile } from '../seal/index.js';
import { readInput } from './files.js';

/** A result key file (ephemera keygen), named in its refusals. */
export function readResultKeyFile(file: string): ResultKeyFile {
  try {
    return parseResultKeyFile(readInput(file, 'result key').toString('utf8'));
  } catch (error) {
    if (isEphemeraError(error) && error.code === 'SEALED_RESULT_KEY_INVALID')
      throw new EphemeraError('SEALED_RESULT_KEY_INVALID', `${file} is not a result key file (ephemera keygen --out FILE makes one): ${error.message}`);
    throw error;
  }
}

import { isEphemeraError } from '../../errors.js';

/** The error code `run` fails with (null: it did not fail); anything but an EphemeraError is rethrown. */
export async function codeOf(run: () => unknown): Promise<string | null> {
  try {
    await run();
    return null;
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    return error.code;
  }
}

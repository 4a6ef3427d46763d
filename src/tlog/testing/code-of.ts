import { isEphemeraError } from '../../errors.js';

/** The error code `body` throws ('no error' when it returns); anything but an EphemeraError is rethrown. */
export function codeOf(body: () => unknown): string {
  try {
    body();
  } catch (error) {
    if (isEphemeraError(error)) return error.code;
    throw error;
  }
  return 'no error';
}

/** The same for an async body. */
export async function codeOfAsync(body: () => Promise<unknown>): Promise<string> {
  try {
    await body();
  } catch (error) {
    if (isEphemeraError(error)) return error.code;
    throw error;
  }
  return 'no error';
}

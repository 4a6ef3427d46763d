/** Test support: the host processes of one execution's sandbox (the tracer, bwrap, the supervisor, tools), found by its cgroup. */
import { readdirSync, readFileSync } from 'node:fs';

export interface HostProcess {
  pid: number;
  comm: string;
  uid: number;
}

export function hostProcessesOf(executionId: string): HostProcess[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        if (!readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`ephemera-${executionId}`)) return [];
        const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
        return [{ pid: Number(pid), comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), uid }];
      } catch {
        return []; // exited meanwhile
      }
    });
}

// Where the processes of one deployment keep their files under the data folder:
// the primary's directory database, one store shard per node, the node sockets.
import path from 'node:path';

export function nodeSocketPath(data: string, node: number): string {
  return path.join(data, 'run', `node-${node}.sock`);
}

export function nodeDataPath(data: string, node: number): string {
  return path.join(data, `node-${node}`);
}

export function directoryDataPath(data: string): string {
  return path.join(data, 'directory');
}

// The `server` section: what every part of a node shares, its data folder and the name
// it gives itself in greetings and Received headers.
import { defineSection, type SettingsOf } from '../config/config.js';

export const serverSection = defineSection({
  name: 'server',
  about: 'the node as a whole: data folder and host name',
  settings: {
    data: { kind: 'string', default: './data', legacy: 'data', meta: 'DIR', describe: 'data folder' },
    hostname: { kind: 'string', default: 'localhost', legacy: 'hostname', meta: 'NAME', describe: 'host name in greetings and Received headers' },
    user: { kind: 'optstring', default: '', legacy: 'user', meta: 'NAME', describe: 'started as root: become this user once the listeners are bound (privileged ports); with --workers, every process' },
  },
});

export type ServerSettings = SettingsOf<typeof serverSection>;

// Lays out applications off the page's thread: a list of jobs in, a list of
// layouts out (see layoutOne).
import { layoutOne } from './dagre_layout.js';

self.onmessage = (ev) => self.postMessage(ev.data.map(layoutOne));

/** Every Kiln Cloud Function, for `functions-framework --source=functions/index.ts --target=<name>`. */
import './ingest/index.js';
import './convert/index.js';
import './train/index.js';
import './quantize/index.js';
import './compile/index.js';
import './verify/index.js';
import './finish/index.js';
import './deadletter/index.js';
import './sweeper/index.js';

export { FUNCTION_NAMES, FUNCTION_SIGNATURES } from './manifest.js';

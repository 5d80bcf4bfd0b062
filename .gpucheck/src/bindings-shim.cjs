// Replaces the `bindings` package inside the bundle: gl's native-gl.js calls require('bindings')('webgl').
// The native addon is carried next to the bundle; run.sh points GPUCHECK_WEBGL_NODE at it.
module.exports = function bindings(name) {
  const path = require('path');
  const file = process.env.GPUCHECK_WEBGL_NODE || path.join(process.cwd(), name + '.node');
  return require(file);
};

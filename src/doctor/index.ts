/** `glrun doctor`: checks an environment before jobs fail in it, each finding with its fix. */
export { type DoctorOptions, type DoctorReport, LOCAL, MACHINE, runDoctor } from './doctor.js'
export { counts, doctorJson, renderDoctor } from './render.js'
export type { Finding, FindingStatus } from './types.js'

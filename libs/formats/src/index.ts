export * from './format.error';
export * from './format-registry';
export { decodeFit, encodeFit, type FitDecodeOptions } from './fit/fit.codec';
export { activityTypeFromFit, fitSportFor, type FitSport } from './fit/fit-sport.util';
export * from './tcx/tcx.codec';
export * from './gpx/gpx.codec';
export * from './pwx/pwx.codec';

export { decodeGpx, gpxTypeToActivityType } from './gpx.decoder';
export { encodeGpx } from './gpx.encoder';

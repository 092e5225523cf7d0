export { decodeTcx, sportFromTcx } from './tcx.decoder';
export { encodeTcx, tcxSportFor } from './tcx.encoder';

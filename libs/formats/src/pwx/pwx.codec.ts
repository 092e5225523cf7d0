export { decodePwx, pwxSportToActivityType } from './pwx.decoder';
export { encodePwx, pwxSportFor } from './pwx.encoder';

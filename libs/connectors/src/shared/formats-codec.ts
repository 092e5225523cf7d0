import { decodeActivity, detectFormat, encodeActivity } from '@tributary/formats';
import { type ActivityCodec } from './activity-codec';

/** The production codec: @tributary/formats. */
export const formatsCodec: ActivityCodec = { detectFormat, decodeActivity, encodeActivity };

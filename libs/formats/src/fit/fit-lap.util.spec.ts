import { FIT_INTENSITIES, FIT_LAP_TRIGGERS, lapIntensityFromFit, lapTriggerFromFit } from './fit-lap.util';

describe('lapTriggerFromFit', () => {
  it('should map every FIT name back to the model trigger it was written from', () => {
    for (const [model, fit] of Object.entries(FIT_LAP_TRIGGERS)) expect(lapTriggerFromFit(fit)).toBe(model);
    expect(lapTriggerFromFit('positionStart')).toBe('position_start');
  });

  it('should ignore unknown values, numbers and prototype names', () => {
    expect(lapTriggerFromFit('heartRate')).toBeUndefined();
    expect(lapTriggerFromFit(7)).toBeUndefined();
    expect(lapTriggerFromFit('constructor')).toBeUndefined();
  });
});

describe('lapIntensityFromFit', () => {
  it('should map every FIT intensity back and ignore anything else', () => {
    for (const [model, fit] of Object.entries(FIT_INTENSITIES)) expect(lapIntensityFromFit(fit)).toBe(model);
    expect(lapIntensityFromFit('toString')).toBeUndefined();
    expect(lapIntensityFromFit(undefined)).toBeUndefined();
  });
});

import { outputSize } from '../../../src/media/resolution';
test('x', () => { expect(outputSize({ srcWidth: 1920, srcHeight: 1080, width: 0, height: 720, resolutionAdaptive: 'open' })).toEqual({ width: 1280, height: 720 }); });

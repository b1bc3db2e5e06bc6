// P1: login failures are counted per source address; an IPv6 host holds a whole /64, so it counts as one.
import { sourceOf } from '../../usecases/login-throttle';

test('P1: a source is an IPv4 address (also IPv4-mapped) or an IPv6 /64; anything else is one "unknown" source', () => {
  expect(sourceOf('203.0.113.7')).toBe('203.0.113.7');
  expect(sourceOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
  expect(sourceOf('2001:db8:0:12:abcd::1')).toBe('2001:db8:0:12::/64');
  expect(sourceOf('2001:0db8:0000:0012:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:12::/64');
  expect(sourceOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
  expect(sourceOf('::1')).toBe('0:0:0:0::/64');
  expect(sourceOf(undefined)).toBe('unknown');
  expect(sourceOf('not an address')).toBe('unknown');
});

import { describe, expect, it } from 'vitest';
import { MonitorOptionError } from './errors.js';
import { isLoopback, parseBasicAuth, parseListenOptions, parseMonitorOptions, parseUrlPrefix } from './options.js';

describe('parseUrlPrefix', () => {
  it("normalises Flower's --url_prefix forms to /segment", () => {
    expect(parseUrlPrefix('flower')).toBe('/flower');
    expect(parseUrlPrefix('/flower/')).toBe('/flower');
    expect(parseUrlPrefix('/ops/flower')).toBe('/ops/flower');
    expect(parseUrlPrefix('/')).toBe('');
    expect(parseUrlPrefix('')).toBe('');
    expect(parseUrlPrefix(undefined)).toBe('');
  });

  it('refuses paths that could escape or inject', () => {
    for (const bad of ['/a b', '/../x', '/a//b', '/x?y', '/x#y', '/<script>', '/./a']) {
      expect(() => parseUrlPrefix(bad), bad).toThrow(MonitorOptionError);
    }
  });
});

describe('parseBasicAuth', () => {
  it("reads Flower's user:pass[,user2:pass2] and lists of user:pass", () => {
    expect(parseBasicAuth('admin:s3cret')).toEqual([{ user: 'admin', password: 's3cret' }]);
    expect(parseBasicAuth('a:1,b:2:3')).toEqual([
      { user: 'a', password: '1' },
      { user: 'b', password: '2:3' },
    ]);
    expect(parseBasicAuth(['a:x', 'b:y'])).toHaveLength(2);
    expect(parseBasicAuth(undefined)).toEqual([]);
  });

  it('refuses an entry without a user or a password, and a user listed twice, without echoing the password', () => {
    for (const bad of ['admin', ':pw', 'admin:', 'a:1,', 'a:1,a:2', '']) {
      expect(() => parseBasicAuth(bad), bad).toThrow(MonitorOptionError);
    }
    try {
      parseBasicAuth('admin:');
    } catch (error) {
      expect((error as MonitorOptionError).option).toBe('basicAuth');
    }
    expect(() => parseBasicAuth('a:1,b')).toThrow(/entry 2/);
    expect(() => parseBasicAuth('a:topsecret,b')).not.toThrow(/topsecret/);
  });
});

describe('parseListenOptions', () => {
  it('defaults to 127.0.0.1:5555, as Flower', () => {
    expect(parseListenOptions({}, [])).toEqual({ port: 5555, address: '127.0.0.1' });
    expect(parseListenOptions({ port: 0, address: 'localhost' }, [])).toEqual({ port: 0, address: 'localhost' });
    expect(parseListenOptions({ address: '[::1]' }, [])).toEqual({ port: 5555, address: '::1' });
  });

  it('refuses an address other machines reach without basic auth, unless insecure', () => {
    for (const address of ['0.0.0.0', '::', '192.168.1.10', 'monitor.example.com']) {
      let caught: unknown;
      try {
        parseListenOptions({ address }, []);
      } catch (error) {
        caught = error;
      }
      expect(caught, address).toBeInstanceOf(MonitorOptionError);
      expect((caught as MonitorOptionError).code).toBe('MONITOR_INSECURE');
      expect((caught as Error).message).toMatch(/basicAuth|--basic-auth/);
      expect(parseListenOptions({ address, insecure: true }, [])).toMatchObject({ address: address });
      expect(parseListenOptions({ address }, [{ user: 'a', password: 'b' }])).toMatchObject({ address });
    }
  });

  it('refuses a bad port or address', () => {
    for (const port of [-1, 65_536, 1.5, Number.NaN]) expect(() => parseListenOptions({ port }, []), String(port)).toThrow(/port/);
    expect(() => parseListenOptions({ address: '' }, [])).toThrow(/address/);
    expect(() => parseListenOptions({ address: 'a b' }, [])).toThrow(/address/);
  });
});

describe('isLoopback', () => {
  it('knows loopback addresses', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(address), address).toBe(true);
    for (const address of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '127.0.0.256', 'example.com', '127.0.0.1.example.com']) expect(isLoopback(address), address).toBe(false);
  });
});

describe('parseMonitorOptions', () => {
  it('fills the defaults and checks the limits', () => {
    expect(parseMonitorOptions({})).toMatchObject({ prefix: '', users: [], readOnly: false, maxTasks: 100_000, inspectTimeout: 1_000 });
    expect(() => parseMonitorOptions({ maxTasks: 0 })).toThrow(/maxTasks/);
    expect(() => parseMonitorOptions({ inspectTimeout: 1.5 })).toThrow(/inspectTimeout/);
    expect(() => parseMonitorOptions({ readOnly: 'yes' as unknown as boolean })).toThrow(/readOnly/);
  });
});

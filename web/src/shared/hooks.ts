import { useEffect, useState } from 'preact/hooks';
import { messageOf } from './api';

// Loads `load()` whenever `key` changes; answers the value or the error.
export function useLoad<T>(key: string, load: () => Promise<T>) {
  const [state, setState] = useState<{ key: string; value?: T; error?: string }>({ key: '' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setState({ key, value }),
      (e: unknown) => live && setState({ key, error: messageOf(e) }),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  const current = state.key === key;
  return {
    value: current ? state.value : undefined,
    error: current ? state.error : undefined,
    reload: () => setTick((t) => t + 1),
    set: (value: T) => setState({ key, value }),
  };
}


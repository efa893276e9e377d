// The one way a region of a page is drawn from data: a panel follows a resource (store.js) and
// draws its element from the resource's state, now and after every change.
import { replace } from "./dom.js";
import { errorState, loading as loadingState } from "./ui.js";

/**
 * panel(el, res, {render, loading, error, title}) -> unsubscribe
 *   loading()           what to show until the first load is done (default: a spinner line;
 *                       null keeps what `el` holds, e.g. a skeleton built with it);
 *   render(data, el)    the nodes to show once loaded (return undefined when it updated `el`
 *                       itself, as a chart does);
 *   error(err, retry)   what to show when the last load failed (default: the error and a
 *                       Try again button; null, or a function returning undefined, leaves
 *                       `el` as it is).
 * A refresh that keeps the data (res.refresh()) does not flash the loading state. Several
 * panels may follow one resource (one fetch, many regions).
 */
export function panel(el, res, { render, loading, error, title } = {}) {
  const show = (nodes) => {
    if (nodes !== undefined) replace(el, nodes);
  };
  function draw(state) {
    if (state.status === "loading") {
      if (state.data !== undefined || loading === null) return;
      replace(el, loading ? loading() : loadingState());
    } else if (state.status === "error") {
      if (error === null) return;
      const retry = () => res.refresh();
      show(error ? error(state.error, retry) : errorState(state.error, retry, title));
    } else {
      show(render(state.data, el));
    }
  }
  draw(res.get());
  return res.subscribe(draw);
}

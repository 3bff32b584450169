// symphony_dash: the view in the URL (symphony_dash/url_state.py). The server turns each state into a query string;
// here it becomes a history entry that also holds the state, and going back or forward puts that state back.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    symphony_url: {
        // token: {search, path, state} for the state now in the central store.
        sync: function (token) {
            if (!token || token.path !== window.location.pathname) return;  // made for a page no longer shown
            const url = token.path + token.search + window.location.hash;
            const entry = {symphony: token.state};
            const own = window.history.state && window.history.state.symphony;
            // A fresh entry (the first load, a link to another page) or the state the URL already holds (a restore,
            // back or forward) is written in place; only a change made on the page adds an entry.
            if (!own || token.search === window.location.search) window.history.replaceState(entry, "", url);
            else window.history.pushState(entry, "", url);
        },
    },
});

window.addEventListener("popstate", function (event) {
    const state = event.state && event.state.symphony;
    if (!state || !window.dash_clientside.set_props) return;  // not an entry of ours (or a notebook app)
    window.dash_clientside.set_props("symphony-init", {data: Object.assign({}, state, {replace: true})});
});

// The gallery's tiles (components/gallery.py), drawn as plain elements from the data the server sends: a page of
// tiles as Dash components made React rebuild dozens of components on each new filter, and made every later update
// of the page check them again. A click on a tile becomes the gallery's pick event, set on its "pick" store.
(function () {
    // The props of Dash's html components that a tile's content uses; anything else is left out.
    const ATTRIBUTES = {className: "class", title: "title", src: "src", alt: "alt", preload: "preload", role: "role"};

    // One Dash html component, as its JSON arrives, to an element (text by textContent: nothing is parsed as HTML).
    function build(node) {
        if (node === null || node === undefined || typeof node === "boolean") return document.createTextNode("");
        if (typeof node !== "object") return document.createTextNode(String(node));
        if (Array.isArray(node)) {
            const fragment = document.createDocumentFragment();
            node.forEach(child => fragment.appendChild(build(child)));
            return fragment;
        }
        const props = node.props || {};
        if (node.namespace !== "dash_html_components" || !/^[A-Za-z][A-Za-z0-9]*$/.test(node.type || "")) {
            return build(props.children);
        }
        const element = document.createElement(node.type.toLowerCase());
        for (const [prop, attribute] of Object.entries(ATTRIBUTES)) {
            const value = props[prop];
            if (typeof value === "string" || typeof value === "number") element.setAttribute(attribute, value);
        }
        if (props.controls) element.controls = true;
        element.appendChild(build(props.children));
        return element;
    }

    function gridOf(id) {
        // Dash writes a pattern-matching id as JSON with sorted keys.
        return document.getElementById(JSON.stringify({index: id.index, sub: "grid", type: id.type}));
    }

    // The pick after a click on positions: what the person wants for each position touched since the page was drawn.
    function pick(grid, positions, wanted) {
        const pager = grid.symphonyPager;
        const last = grid.symphonyPick && grid.symphonyPick.gen === pager.gen ? grid.symphonyPick : {want: {}};
        const want = Object.assign({}, last.want);
        const isOn = p => (String(p) in want ? want[p] : pager.ticked.includes(p));
        const on = wanted === undefined ? null : wanted(isOn);
        positions.forEach(p => { want[p] = on === null ? !isOn(p) : on; });
        const clicked = positions.length === 1 ? positions[0] : null;
        grid.symphonyPick = {gen: pager.gen, page: pager.page, want: want, last: clicked};
        return grid.symphonyPick;
    }

    function onTile(event) {
        const grid = event.currentTarget;
        const tile = event.target.closest(".symphony-gallery-tile");
        // Pressing play on an audio tile is not a pick.
        if (!tile || !grid.contains(tile) || event.target.closest("audio") || !grid.symphonyPager) return;
        if (event.type === "keydown") {
            if (event.key !== " " && event.key !== "Enter") return;
            event.preventDefault();
        }
        const picked = pick(grid, [Number(tile.dataset.position)]);
        window.dash_clientside.set_props(grid.symphonyPickId, {data: picked});
    }

    window.symphonyGallery = {
        draw: function (tiles, pager) {
            const id = window.dash_clientside.callback_context.inputs_list[0].id;
            const grid = gridOf(id);
            if (!grid) return;
            grid.symphonyPager = pager && pager.gen ? pager : null;
            grid.symphonyPickId = Object.assign({}, id, {sub: "pick"});
            const fragment = document.createDocumentFragment();
            (tiles || []).forEach((tile, position) => {
                const item = document.createElement("div");
                item.className = "symphony-gallery-tile";
                item.dataset.position = position;
                item.tabIndex = 0;
                item.setAttribute("role", "checkbox");
                item.setAttribute("aria-checked", tile.selected ? "true" : "false");
                if (tile.title) item.title = tile.title;
                item.appendChild(build(tile.label));
                fragment.appendChild(item);
            });
            grid.replaceChildren(fragment);
            if (!grid.symphonyListening) {
                grid.addEventListener("click", onTile);
                grid.addEventListener("keydown", onTile);
                grid.symphonyListening = true;
            }
        },
        // "Select page": every tile on, or off if they all are (with the clicks since the page was drawn).
        selectPage: function (clicks, pager) {
            const id = window.dash_clientside.callback_context.inputs_list[0].id;
            const grid = gridOf(id);
            if (!clicks || !grid || !grid.symphonyPager || !pager || grid.symphonyPager.gen !== pager.gen) {
                return window.dash_clientside.no_update;
            }
            const all = Array.from({length: pager.size}, (_, p) => p);
            if (!all.length) return window.dash_clientside.no_update;
            return pick(grid, all, isOn => !all.every(isOn));
        },
    };
})();

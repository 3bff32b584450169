// symphony_dash: merges what components emit into the central state store, in the browser (no server round trip).
// The merge is sticky: only the clauses whose store fired are replaced or removed, so the clauses of components on
// another page survive navigation, and two components emitting in one tick both land.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    symphony: {
        merge: function (clauseStores, chipClicks, clearClicks, groupBy, init, state) {
            const nc = window.dash_clientside.no_update;
            const before = state || {};
            let s = {
                layout: before.layout || "",
                filter: (before.filter || []).slice(),
                selection: before.selection || null,
                group_by: before.group_by || [],
            };
            const triggered = window.dash_clientside.callback_context.triggered || [];
            for (const t of triggered) {
                if (!t || !t.prop_id || t.value === null || t.value === undefined) continue;
                const idText = t.prop_id.slice(0, t.prop_id.lastIndexOf("."));
                if (idText === "symphony-init") {
                    // "replace": a state set from Python (a notebook) replaces the page's, of the same layout too.
                    if (t.value.layout && (t.value.layout !== s.layout || t.value.replace)) {
                        s = Object.assign({}, t.value);
                        delete s.replace;
                    }
                    continue;
                }
                let id;
                try { id = JSON.parse(idText); } catch (e) { continue; }
                if (id.type === "symphony-clear") {
                    if (t.value) { s.filter = []; s.selection = null; }
                } else if (id.type === "symphony-groupby") {
                    s.group_by = t.value || [];
                } else if (id.type === "symphony-chip") {
                    if (!t.value) continue;
                    // "selection" is the chip's ×; "selection:<place>" another button that clears it (the tray).
                    if (String(id.index).split(":")[0] === "selection") s.selection = null;
                    else s.filter = s.filter.filter(c => "filter:" + c.source !== id.index);
                } else if (id.sub === "clause" && t.value.source) {
                    applyEmission(s, t.value);
                }
            }
            return JSON.stringify(s) === JSON.stringify(before) ? nc : s;
        },
        // The group-by control follows the state when it changes elsewhere: back or forward, another notebook cell,
        // Python.
        followGroupBy: function (state, values) {
            const want = (state && state.group_by) || [];
            const same = values.every(v => JSON.stringify(v || []) === JSON.stringify(want));
            return same ? window.dash_clientside.no_update : values.map(() => want);
        },
    },
});

function applyEmission(s, e) {
    if (e.kind === "selection") {
        if (e.clause) s.selection = e.clause;
        else if (s.selection && s.selection.source === e.source) s.selection = null;
        return;
    }
    const i = s.filter.findIndex(c => c.source === e.source);
    if (!e.clause) { if (i >= 0) s.filter.splice(i, 1); }
    else if (i >= 0) s.filter[i] = e.clause;
    else s.filter.push(e.clause);
}

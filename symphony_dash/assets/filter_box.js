// symphony_dash: the toolbar's filter box (symphony_dash/filter_box.py). Editing the text clears its error at once.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    symphonyFilterBox: {
        clearError: function (value, error) {
            return error ? null : window.dash_clientside.no_update;
        },
    },
});

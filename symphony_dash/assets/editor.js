// The layout editor's drag and drop (symphony_dash/editor.py): drag a box by its edit tools onto another box of the
// page, and it moves there, before that box. The server is told through the edit bar's drop store.
(function () {
    "use strict";
    let dragged = null;

    function targetOf(event) {
        const box = event.target.closest && event.target.closest(".symphony-box.editing");
        return box && dragged && box.id !== dragged ? box : null;
    }

    function clear() {
        document.querySelectorAll(".symphony-box.drop-target").forEach((b) => b.classList.remove("drop-target"));
    }

    document.addEventListener("dragstart", (event) => {
        const tools = event.target.closest && event.target.closest(".symphony-edit-tools");
        if (!tools) return;
        dragged = tools.closest(".symphony-box").id;
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", dragged);
    });
    document.addEventListener("dragover", (event) => {
        const box = targetOf(event);
        if (!box) return;
        event.preventDefault();  // allows the drop
        clear();
        box.classList.add("drop-target");
    });
    document.addEventListener("drop", (event) => {
        const box = targetOf(event);
        if (!box) return;
        event.preventDefault();
        const moved = dragged.replace(/^box-/, "");
        const before = box.id.replace(/^box-/, "");
        window.dash_clientside.set_props(
            {type: "symphony-edit-drop", index: 0}, {data: {moved: moved, before: before, at: Date.now()}}
        );
    });
    document.addEventListener("dragend", () => {
        dragged = null;
        clear();
    });
})();

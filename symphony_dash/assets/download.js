// symphony_dash: the "download as PNG" button of every component's header. One listener on the document serves
// every box, including the boxes the router mounts later, with no server round trip.
// A box whose body is one Plotly graph is drawn by plotly.js itself (crisp, the figure alone, with the box's title);
// any other box (gallery, tables, summaries) is captured from the page by html2canvas (assets/vendor).
(function () {
    const SCALE = 2; // twice the screen size: sharp on a slide or a high-density screen

    function fileName(box) {
        // The box id is "box-<component id>"; keep a name that every file system accepts.
        const name = box.id.replace(/^box-/, "").replace(/[^\w.-]+/g, "_").replace(/^[._]+/, "");
        return name || "component";
    }

    function save(url, name) {
        const a = document.createElement("a");
        a.href = url;
        a.download = name + ".png";
        document.body.appendChild(a);
        a.click();
        a.remove();
    }

    function plotlyImage(graph, title, name) {
        const full = graph._fullLayout || {};
        const layout = JSON.parse(JSON.stringify(graph.layout || {}));
        const margin = Object.assign({}, layout.margin);
        // The box shows its title in the header, outside the figure: put it in the image, with room above the plot.
        if (title && !(layout.title && layout.title.text)) {
            layout.title = {text: title, x: 0.01, xanchor: "left", font: {size: 14}};
            margin.t = Math.max(margin.t || 0, 40);
            layout.margin = margin;
        }
        const height = (full.height || graph.clientHeight) + Math.max(0, (margin.t || 0) - ((full.margin || {}).t || 0));
        return window.Plotly.downloadImage({data: graph.data, layout: layout}, {
            format: "png", filename: name, width: full.width || graph.clientWidth, height: height, scale: SCALE,
        });
    }

    function domImage(box, name) {
        return window.html2canvas(box, {
            backgroundColor: "#ffffff",
            scale: SCALE,
            logging: false,
            // The copy of the page is laid out in a window of this width: without the page's scrollbar it would be
            // wider, and the box with it.
            windowWidth: document.documentElement.clientWidth,
            ignoreElements: el => el.classList && el.classList.contains("symphony-download"),
        }).then(canvas => save(canvas.toDataURL("image/png"), name));
    }

    document.addEventListener("click", function (event) {
        const button = event.target.closest && event.target.closest(".symphony-download");
        if (!button) return;
        const box = button.closest(".symphony-box");
        if (!box || button.disabled) return;
        const body = box.querySelector(".symphony-body");
        const graphs = body ? body.querySelectorAll(".js-plotly-plot") : [];
        const title = (box.querySelector(".symphony-title") || {}).textContent || "";
        const name = fileName(box);
        const single = graphs.length === 1 && body.children.length === 1 && window.Plotly;
        button.disabled = true; // one image at a time per box: a double click must not save two files
        const done = single ? plotlyImage(graphs[0], title, name) : domImage(box, name);
        Promise.resolve(done)
            .catch(err => console.error("symphony: could not save the image of " + name, err))
            .finally(() => { button.disabled = false; });
    });
})();

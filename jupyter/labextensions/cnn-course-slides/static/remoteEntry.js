// A hand-written JupyterLab federated extension (a module-federation container with no plugins).
//
// jupyterlab-rise 0.43.1 serves slides from its own app, whose bundle lacks @jupyterlab/console.
// ipywidgets 8's manager imports one optional token (IConsoleTracker) from that package, so it
// fails to load there and every view shows as a static picture
// (https://github.com/jupyterlab-contrib/rise/issues/119). In that app only, this container
// 1. shares a stand-in @jupyterlab/console that holds just that token: nothing provides it in the
//    slideshow, so the manager activates without console support and widgets render;
// 2. keeps arrow keys, Home, End and Space pressed on a widget control (a slider handle, a
//    button, a drop-down) for the control: otherwise they also turn the slide;
// 3. lets PageUp/PageDown (what presentation clickers send) turn the slide only, even on a
//    focused control (a slider moved five steps with it);
// 4. sets slide prose and code as large as the lecture style's figure text (cnnlib.plotting's
//    LECTURE_RC: 15 pt at 100 dpi, 21 px), not JupyterLab's 14 px and 13 px, and stacks a
//    slide's markdown cells closer (4 px around each cell's text instead of 20 px and 10.5 px).
// In JupyterLab itself, which shares the real @jupyterlab/console, it does nothing.
var _JUPYTERLAB;
(function () {
  "use strict";
  var NAME = "cnn-course-slides";
  var CONSOLE = "@jupyterlab/console";
  var WIDGET_KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", " "];

  function newest(versions) {
    function parts(v) {
      return v.split(/[.-]/).map(function (p) { return parseInt(p, 10) || 0; });
    }
    return versions.slice().sort(function (a, b) {
      var x = parts(a), y = parts(b);
      for (var i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
      return 0;
    })[versions.length - 1];
  }

  function inWidget(event) {
    var target = event.target;
    return (
      WIDGET_KEYS.indexOf(event.key) !== -1 &&
      target && target.closest && target.closest(".jupyter-widgets") &&
      !target.isContentEditable
    );
  }

  // prose and code on slides: the size of the lecture style's figure text (15 pt at 100 dpi);
  // headings follow, as JupyterLab sizes them in em of the prose
  var SLIDE_TEXT_PX = 21;
  var SLIDE_CSS =
    ".reveal {\n" +
    "  --jp-content-font-size1: " + SLIDE_TEXT_PX + "px;\n" +
    "  --jp-code-font-size: " + SLIDE_TEXT_PX + "px;\n" +
    "  --jp-code-line-height: 1.3;\n" +
    "}\n" +
    // a markdown cell's first and last block keep a small margin, not 20 px above and 10.5 px
    // below each: a slide's cells stack closer, so a slide of prose, code and a figure fits
    ".reveal .jp-RenderedMarkdown > :first-child { margin-top: 4px; }\n" +
    ".reveal .jp-RenderedMarkdown > :last-child { margin-bottom: 4px; }\n";

  function slideStyle() {
    if (document.getElementById(NAME + "-style")) return;
    var style = document.createElement("style");
    style.id = NAME + "-style";
    style.textContent = SLIDE_CSS;
    document.head.appendChild(style);
  }

  var CLICKER_KEYS = ["PageUp", "PageDown"];

  function clickerOnWidget(event) {
    var target = event.target;
    return (
      event.isTrusted &&
      CLICKER_KEYS.indexOf(event.key) !== -1 &&
      target && target.closest && target.closest(".jupyter-widgets")
    );
  }

  function keepWidgetKeys() {
    // Page Up / Page Down (what presentation clickers send) turn the slide and never move the
    // focused control (a slider handle would jump by five steps): the key is taken from the
    // control before anything sees it and sent again from the page body, where only the
    // slideshow's own listeners act on it.
    window.addEventListener(
      "keydown",
      function (event) {
        if (!clickerOnWidget(event)) return;
        event.stopPropagation();
        event.preventDefault();
        var again = new KeyboardEvent("keydown", {
          key: event.key,
          code: event.code,
          keyCode: event.keyCode,
          which: event.which,
          bubbles: true,
          cancelable: true,
        });
        document.body.dispatchEvent(again);
      },
      true
    );
    // Two listeners turn a slide on such keys: the notebook's shortcuts (on the document, in
    // the capture phase: ArrowRight moves to the next heading, and the slideshow follows the
    // active cell) and reveal.js (on the document, bubbling).
    window.addEventListener(
      "keydown",
      function (event) {
        if (!inWidget(event)) return;
        if (event.target.closest(".noUi-handle")) {
          // a slider handle moves on its own keydown listener, so the event must reach it;
          // the shortcuts skip an event whose default is prevented
          event.preventDefault();
        } else {
          // buttons and drop-downs act by the browser's default action: no listener needed
          event.stopPropagation();
        }
      },
      true
    );
    // after the handle's own listener, before reveal.js's
    document.documentElement.addEventListener("keydown", function (event) {
      if (inWidget(event)) event.stopPropagation();
    });
  }

  var container = {
    init: function (scope) {
      if (scope[CONSOLE] && Object.keys(scope[CONSOLE]).length) return Promise.resolve();
      var lumino = scope["@lumino/coreutils"];
      if (!lumino) return Promise.resolve();
      keepWidgetKeys();
      slideStyle();
      return lumino[newest(Object.keys(lumino))].get().then(function (factory) {
        var stand_in = {
          IConsoleTracker: new (factory().Token)(
            "@jupyterlab/console:IConsoleTracker",
            "stand-in: the slideshow has no code consoles"
          ),
        };
        scope[CONSOLE] = {
          "4.6.6": {
            get: function () { return Promise.resolve(function () { return stand_in; }); },
            from: NAME,
            eager: false,
            loaded: 1,
          },
        };
      });
    },
    get: function () {
      return Promise.resolve(function () { return { __esModule: true, default: [] }; });
    },
  };
  _JUPYTERLAB = window._JUPYTERLAB = window._JUPYTERLAB || {};
  _JUPYTERLAB[NAME] = container;
})();

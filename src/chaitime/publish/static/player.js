// chaitime pages: chapters and transcript lines seek the player and the line being played is
// highlighted (the transcript box scrolls itself, never the page); skip, speed and share-at-time
// buttons; the current chapter; search in the transcript and across episodes (search.json).
// Without JavaScript every time link still opens the media file at that time (#t=, Media Fragments)
// and the controls that need a script stay hidden.
(function () {
  "use strict";
  var main = document.querySelector("main[data-root]");
  var root = main ? main.getAttribute("data-root") : "";
  Array.prototype.forEach.call(document.querySelectorAll("[data-needs-js]"), function (el) { el.hidden = false; });

  document.addEventListener("click", function (e) {
    var copy = e.target.closest ? e.target.closest("[data-copy]") : null;
    if (copy) copyText(document.getElementById(copy.getAttribute("data-copy")).value, null);
  });

  function copyText(text, output) {
    if (output) output.textContent = text;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).catch(function () {});
    }
  }

  setupSearch();
  var player = document.getElementById("player");
  if (!player) return;

  var cues = Array.prototype.slice.call(document.querySelectorAll(".cue[data-start]"));
  var starts = cues.map(function (c) { return parseFloat(c.getAttribute("data-start")); });
  var chapters = Array.prototype.slice.call(document.querySelectorAll(".chapters a[data-start]"));
  var chapterStarts = chapters.map(function (c) { return parseFloat(c.getAttribute("data-start")); });
  var nowChapter = document.getElementById("now-chapter");
  var current = null, currentChapter = null;

  function seek(seconds, play) {
    player.currentTime = seconds;
    highlight(seconds);
    if (play) {
      var p = player.play();
      if (p && p.catch) p.catch(function () {});  // autoplay may be refused; the seek stands
    }
  }

  function lastAtOrBefore(list, t) {
    var lo = 0, hi = list.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (list[mid] <= t + 0.05) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function highlight(t) {
    var i = lastAtOrBefore(chapterStarts, t);
    var chapter = i < 0 ? null : chapters[i];
    if (chapter !== currentChapter) {
      if (currentChapter) currentChapter.removeAttribute("aria-current");
      currentChapter = chapter;
      if (chapter) chapter.setAttribute("aria-current", "true");
      if (nowChapter) nowChapter.textContent = chapter ? "Now playing: " + chapter.lastChild.textContent : "";
    }
    var j = lastAtOrBefore(starts, t);
    var cue = j < 0 ? null : cues[j];
    if (cue === current) return;
    if (current) current.classList.remove("current");
    current = cue;
    if (cue) { cue.classList.add("current"); keepVisible(cue); }
  }

  // Positions are measured against the transcript box, not the page, so the box scrolls to the
  // line itself (offsetTop counts from the nearest positioned ancestor, usually the page).
  function keepVisible(cue) {
    var box = document.getElementById("transcript");
    if (!box || !box.contains(cue)) return;
    var boxRect = box.getBoundingClientRect(), rect = cue.getBoundingClientRect();
    if (rect.top < boxRect.top || rect.bottom > boxRect.bottom) {
      box.scrollTop += rect.top - boxRect.top - box.clientHeight / 3;
    }
  }

  player.addEventListener("timeupdate", function () { highlight(player.currentTime); });
  player.addEventListener("seeked", function () { highlight(player.currentTime); });

  document.addEventListener("click", function (e) {
    if (!e.target.closest) return;
    var skip = e.target.closest("[data-skip]");
    if (skip) {
      var to = Math.max(0, player.currentTime + parseFloat(skip.getAttribute("data-skip")));
      if (isFinite(player.duration)) to = Math.min(to, player.duration);
      seek(to, false);
      return;
    }
    var rate = e.target.closest("[data-rate]");
    if (rate) {
      player.playbackRate = parseFloat(rate.getAttribute("data-rate"));
      Array.prototype.forEach.call(document.querySelectorAll("[data-rate]"), function (b) {
        b.setAttribute("aria-pressed", b === rate ? "true" : "false");
      });
      return;
    }
    if (e.target.closest("#share")) {
      var base = location.href.split("#")[0];
      copyText(base + "#t=" + Math.floor(player.currentTime), document.getElementById("share-link"));
      return;
    }
    var target = e.target.closest("[data-start]");
    if (!target) return;
    e.preventDefault();
    var t = parseFloat(target.getAttribute("data-start"));
    seek(t, true);
    if (history.replaceState) history.replaceState(null, "", "#t=" + Math.floor(t));
  });

  var m = /^#t=(\d+(?:\.\d+)?)$/.exec(location.hash);
  if (m) seek(parseFloat(m[1]), false);

  function setupSearch() {
    var form = document.querySelector("form.search");
    if (!form) return;
    var input = form.querySelector("input"), status = form.querySelector("#search-status"), results = form.querySelector("#search-results");
    var here = form.getAttribute("data-scope") === "episode";
    var index = null, timer = null;
    form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 150); });

    function load(then) {
      if (index) return then(index);
      fetch(root + "search.json").then(function (r) { return r.json(); }).then(function (data) { index = data; then(index); })
        .catch(function () { status.textContent = "The search index could not be loaded."; });
    }

    function run() {
      var q = input.value.trim().toLowerCase();
      results.textContent = "";
      if (here) filterTranscript(q);
      if (!q) { status.textContent = ""; return; }
      load(function (data) {
        var found = 0;
        data.episodes.forEach(function (ep) {
          if (here && location.pathname.replace(/index\.html$/, "").slice(-ep.url.length) === ep.url) return;
          ep.lines.forEach(function (line) {
            if (found >= 50 || line[1].toLowerCase().indexOf(q) < 0) return;
            found++;
            var li = document.createElement("li"), a = document.createElement("a");
            a.href = root + ep.url + "#t=" + Math.floor(line[0]);
            a.textContent = ep.title + " at " + clock(line[0]);
            li.appendChild(a);
            li.appendChild(document.createTextNode(": " + line[1]));
            results.appendChild(li);
          });
        });
        var mine = here ? document.querySelectorAll(".cue:not([hidden])").length : 0;
        status.textContent = (here ? mine + " lines in this episode, " : "") + found + (here ? " in other episodes." : " lines found.");
      });
    }
  }

  function filterTranscript(q) {
    Array.prototype.forEach.call(document.querySelectorAll(".cue"), function (c) {
      c.hidden = !!q && c.textContent.toLowerCase().indexOf(q) < 0;
    });
  }

  function clock(s) {
    s = Math.floor(s);
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    var mm = h ? (m < 10 ? "0" : "") + m : String(m);
    return (h ? h + ":" : "") + mm + ":" + (sec < 10 ? "0" : "") + sec;
  }
})();

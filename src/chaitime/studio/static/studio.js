/* chaitime studio: the episode list and the episode editor. Plain script, no build step.
   Every change goes to the server with the version of the file the page saw; a 409 means the file
   changed on disk and the page says so instead of overwriting it. */
(function () {
  "use strict";
  var TOKEN = (document.querySelector('meta[name="chaitime-token"]') || {}).content || "";
  var COLOURS = ["#1f77b4", "#d35400", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#b7950b"];

  // A request the server can't answer (it was stopped) waits behind the offline banner and is sent
  // again once the server answers: nothing the host did is lost, nothing is sent twice (the
  // version check turns a change that did arrive into a 409).
  function api(method, url, body) {
    var opts = {method: method, headers: {"X-Chaitime-Token": TOKEN}, credentials: "same-origin"};
    if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    function attempt() {
      return fetch(url, opts).then(function (r) {
        return r.json().catch(function () { return {error: r.status + " " + r.statusText}; }).then(function (data) {
          if (!r.ok) { var e = new Error(data.error || r.statusText); e.status = r.status; e.conflict = data.conflict; throw e; }
          return data;
        });
      }, function () { return whenBack().then(attempt); });
    }
    return attempt();
  }
  var back = null;  // while offline: the promise of the server answering again
  function whenBack() {
    if (back) return back.promise;
    var banner = document.getElementById("offline");
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "offline";
      banner.className = "offline";
      banner.setAttribute("role", "alert");
      document.body.insertBefore(banner, document.body.firstChild);
    }
    banner.innerHTML = "The studio is not answering: is <code>chaitime studio</code> still running in its terminal? " +
      "Your change waits and is sent when it answers. <button type=\"button\" id=\"offline-retry\">Retry</button>";
    banner.hidden = false;
    back = {};
    back.promise = new Promise(function (resolve) { back.resolve = resolve; });
    var timer = null;
    function ping() {
      clearTimeout(timer);
      fetch("/favicon.ico", {credentials: "same-origin", cache: "no-store"}).then(function () {
        banner.hidden = true;
        var done = back;
        back = null;
        done.resolve();
      }, function () { timer = setTimeout(ping, 3000); });
    }
    document.getElementById("offline-retry").onclick = ping;
    timer = setTimeout(ping, 3000);
    return back.promise;
  }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; }); }
  function clock(s, tenths) {
    s = Math.max(0, s || 0);
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    var ss = tenths ? sec.toFixed(1).padStart(4, "0") : String(Math.floor(sec)).padStart(2, "0");
    return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + ss;
  }
  function say(text, kind) {
    var box = document.getElementById("message");
    if (!text) { box.hidden = true; return; }
    box.className = "message" + (kind ? " " + kind : "");
    box.innerHTML = text;
    box.hidden = false;
  }
  function fail(err) {
    if (err.conflict) {
      say(esc(err.message) + ' <button type="button" onclick="location.reload()">Reload</button>', "error");
    } else {
      say(esc(err.message), "error");
    }
  }

  // --- the episode list --------------------------------------------------------------------------
  function listPage() {
    var timer = null;
    function load() {
      api("GET", "/api/episodes").then(function (data) {
        var running = false;
        var rows = data.episodes.map(function (ep) {
          var probs = (ep.error ? [{level: "error", what: ep.error}] : []).concat(ep.problems);
          var label = ep.state === "running" ? ep.note : ep.state;
          running = running || ep.state === "running";
          return "<tr data-slug=\"" + esc(ep.slug) + "\"><td><a href=\"/episodes/" + encodeURIComponent(ep.slug) + "\">" + esc(ep.title) + "</a><br><span class=muted>" + esc(ep.slug) + "</span></td>" +
            "<td><span class=\"state " + esc(ep.state) + "\">" + esc(label) + "</span>" +
            (ep.note && ep.state !== "running" ? "<br><span class=\"muted state-note\">" + esc(ep.note) + "</span>" : "") + "</td>" +
            "<td>" + (ep.duration_s != null ? clock(ep.duration_s) : "–") + "</td>" +
            "<td>" + esc((ep.guests || []).join(", ")) + "</td>" +
            "<td><ul class=problems>" + probs.map(function (p) { return "<li class=\"" + esc(p.level) + "\">" + esc(p.what) + (p.fix ? " <span class=muted>" + esc(p.fix) + "</span>" : "") + "</li>"; }).join("") + "</ul></td></tr>";
        });
        document.querySelector("#episodes tbody").innerHTML = rows.join("") || "<tr><td colspan=5>No episodes yet: run <code>chaitime ingest RECORDING</code>.</td></tr>";
        document.getElementById("workspace-problems").innerHTML = data.workspace_problems.map(function (p) {
          return "<li class=\"" + esc(p.level) + "\">" + esc(p.where) + ": " + esc(p.what) + " <span class=muted>" + esc(p.fix) + "</span></li>";
        }).join("");
        clearTimeout(timer);
        if (running) timer = setTimeout(load, 3000);  // an ingest or render is writing: look again
      }).catch(fail);
    }
    load();
    document.getElementById("publish").onclick = function () { publish(false); };
  }

  function publish(confirm) {
    var panel = document.getElementById("publish-panel");
    panel.hidden = false;
    panel.textContent = confirm ? "Publishing…" : "Checking…";
    api("POST", "/api/publish", {confirm: confirm}).then(function (r) {
      var list = "<ul class=problems>" + r.problems.map(function (p) { return "<li class=\"" + esc(p.level) + "\">" + esc(p.level) + ": " + esc(p.where) + ": " + esc(p.what) + "</li>"; }).join("") + "</ul>";
      if (r.published) { panel.innerHTML = "<p>Published to " + esc(r.out) + ".</p>" + list; return; }
      panel.innerHTML = "<p><b>chaitime check</b>: " + r.errors + " error(s), " + (r.problems.length - r.errors) + " warning(s).</p>" + list +
        (r.errors ? "<p>Fix the errors before publishing.</p>" : '<button type="button" id="publish-go">Publish the site</button>');
      var go = document.getElementById("publish-go");
      if (go) go.onclick = function () { publish(true); };
    }).catch(fail);
  }

  // --- the episode editor --------------------------------------------------------------------------
  // Long episodes stay quick: the transcript is drawn in blocks of lines, only the blocks near the
  // view are in the page (the others keep their height), and every change updates only what it
  // changed (the words, the line, the suggestion, the overlay on the waveform), never all of it.
  var BLOCK_LINES = 40;     // lines per block of the transcript
  var EAGER_WORDS = 2500;   // up to this many words, every block is drawn at once
  function episodePage() {
    var slug = decodeURIComponent(location.pathname.split("/").pop());
    var base = "/api/episodes/" + encodeURIComponent(slug);
    var player = document.getElementById("player");
    var box = document.getElementById("transcript");
    var ep, spans = [], starts = [], current = -1, anchor = null, sel = null, wave = null, regions = null, waveSel = null;
    var waveReady = false;  // the waveform knows the duration: overlays placed before that would collapse to 0:00
    var blocks = [], observer = null, pxPerChar = 0.5;

    api("GET", base).then(function (data) {
      ep = data;
      document.title = ep.title + " · chaitime studio";
      document.getElementById("title").textContent = ep.title;
      document.getElementById("post-link").href = "/episodes/" + encodeURIComponent(slug) + "/post";
      player.src = base + "/audio";
      setHistory(ep.history);
      draw();
      drawSpeakers();
      drawSuggestions();
      drawChapters();
      showRemoved();
      setupWave();
    }).catch(function (err) { box.innerHTML = ""; fail(err); });

    function colour(name) { var i = ep.speakers.indexOf(name); return i < 0 ? "#999" : COLOURS[i % COLOURS.length]; }

    // --- the transcript, in blocks ---------------------------------------------------------------
    function draw() {
      if (observer) observer.disconnect();
      spans = [];
      starts = ep.words.map(function (w) { return w[0]; });
      current = -1;
      blocks = [];
      var html = [];
      for (var first = 0, k = 0; first < ep.lines.length; first += BLOCK_LINES, k++) {
        var last = Math.min(ep.lines.length, first + BLOCK_LINES) - 1, chars = 0;
        for (var li = first; li <= last; li++) for (var i = ep.lines[li].first; i <= ep.lines[li].last; i++) chars += ep.words[i][2].length + 1;
        blocks.push({first: first, last: last, chars: chars + 12 * (last - first + 1), drawn: false, height: 0});
        html.push('<div class="block" data-block="' + k + '"></div>');
      }
      box.innerHTML = html.join("");
      blocks.forEach(function (b, k) { b.el = box.children[k]; });
      var eager = ep.words.length <= EAGER_WORDS || !window.IntersectionObserver;
      if (eager) { blocks.forEach(function (b, k) { drawBlock(k); }); return; }
      drawBlock(0);
      blocks.forEach(function (b, k) { if (!b.drawn) b.el.style.height = estimate(k) + "px"; });
      observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          var k = +e.target.dataset.block;
          if (e.isIntersecting) drawBlock(k);
          else undrawBlock(k);
        });
      }, {root: box, rootMargin: "1200px 0px"});
      blocks.forEach(function (b) { observer.observe(b.el); });
    }
    function estimate(k) { return Math.max(20, Math.round(blocks[k].chars * pxPerChar)); }
    function lineHTML(li) {
      var ln = ep.lines[li], html = ['<p class="line" data-line="' + li + '" style="--spk:' + colour(ln.speaker) + '"><span class="stamp">' + clock(ln.start_s) + "</span>" +
        '<span class="who" data-line="' + li + '" title="Click to give this line to someone else">' + esc(ln.speaker || "?") + "</span>"];
      for (var i = ln.first; i <= ln.last; i++) {
        var w = ep.words[i];
        html.push('<span class="w' + (w[4] ? " cut" : "") + (w[5] ? " sug" : "") + (w[6] ? " fixed" : "") + (sel && i >= sel[0] && i <= sel[1] ? " sel" : "") +
          (i === current ? " now" : "") + '" data-i="' + i + '">' + esc(w[2]) + "</span> ");
      }
      html.push("</p>");
      return html.join("");
    }
    function drawBlock(k) {
      var b = blocks[k];
      if (!b || b.drawn) return;
      var html = [];
      for (var li = b.first; li <= b.last; li++) html.push(lineHTML(li));
      b.el.innerHTML = html.join("");
      b.el.style.height = "";
      b.drawn = true;
      var ws = b.el.getElementsByClassName("w");
      for (var j = 0; j < ws.length; j++) spans[+ws[j].dataset.i] = ws[j];
      if (k === 0 && !pxPerChar_measured) {  // the first block drawn tells how tall a character of text is
        pxPerChar_measured = true;
        pxPerChar = b.el.offsetHeight / Math.max(1, b.chars) || pxPerChar;
      }
    }
    var pxPerChar_measured = false;
    function undrawBlock(k) {
      var b = blocks[k];
      if (!b.drawn || b.el.querySelector("input")) return;  // a word being corrected stays
      var height = b.el.offsetHeight;
      for (var li = b.first; li <= b.last; li++) for (var i = ep.lines[li].first; i <= ep.lines[li].last; i++) spans[i] = undefined;
      b.el.innerHTML = "";
      b.el.style.height = height + "px";
      b.drawn = false;
    }
    function blockOfWord(i) { return Math.floor(ep.words[i][3] / BLOCK_LINES); }
    function wordSpan(i) { drawBlock(blockOfWord(i)); return spans[i]; }
    function lineEl(li) { var b = blocks[Math.floor(li / BLOCK_LINES)]; return b && b.drawn ? b.el.querySelector('.line[data-line="' + li + '"]') : null; }
    function showWord(i) {
      var span = wordSpan(i);
      if (!span) return;
      var r = span.getBoundingClientRect(), b = box.getBoundingClientRect();
      if (r.top < b.top || r.bottom > b.bottom) span.scrollIntoView({block: "center"});
    }
    function setLineSpeaker(li) {
      var p = lineEl(li), ln = ep.lines[li];
      if (p) {
        p.style.setProperty("--spk", colour(ln.speaker));
        p.querySelector(".who").textContent = ln.speaker || "?";
      }
      band(li);
    }

    // --- the side: speakers, suggestions, chapters ----------------------------------------------
    function drawSpeakers() {
      document.getElementById("speakers").innerHTML = ep.speakers.map(function (s) {
        return '<li style="--spk:' + colour(s) + '"><span class="swatch"></span><span class="grow">' + esc(s) + '</span><button type="button" data-rename="' + esc(s) + '">Rename</button></li>';
      }).join("");
    }
    function drawChapters() {
      document.getElementById("chapters").innerHTML = ep.chapters.map(function (c, i) {
        return '<li><a data-seek="' + c.start_s + '">' + clock(c.start_s) + '</a><input data-chapter="' + i + '" value="' + esc(c.title) + '" aria-label="Chapter title">' +
          '<button type="button" data-move="' + i + '" title="Move it to the playhead">Move</button><button type="button" data-delete="' + i + '" title="Delete">×</button></li>';
      }).join("") || "<li class=muted>None.</li>";
    }

    // Suggested cuts (fillers, pauses, dead air, untranscribed speech) in time order, each with its
    // state (cut or kept) and whether the host decided on it (reviewed: ✓); all fillers or all
    // pauses at once. After a change only the items whose state changed are touched.
    function isPause(m) { return m.kind === "pause" || m.kind === "dead air"; }
    var suggestionItems = {}, suggestionCount = 0;
    function reviewedSets() {
      var rev = ep.reviewed || {words: [], markers: []}, words = {}, markers = {};
      rev.words.forEach(function (i) { words[i] = true; });
      rev.markers.forEach(function (m) { markers[m] = true; });
      return {words: words, markers: markers};
    }
    function suggestionList() {
      var rev = reviewedSets();
      var items = ep.markers.map(function (m) {
        return {key: "m" + m.stamp, t: m.start_s, cut: !!m.struck, reviewed: !!rev.markers[m.stamp], attr: 'data-marker="' + esc(m.stamp) + '"',
                label: esc(m.kind) + " " + m.length_s.toFixed(1) + " s"};
      });
      ep.words.forEach(function (w, i) {
        if (w[5]) items.push({key: "w" + i, t: w[0], cut: !!w[4], reviewed: !!rev.words[i], attr: 'data-word="' + i + '"', label: "“" + esc(w[2]) + "”"});
      });
      items.sort(function (a, b) { return a.t - b.t; });
      return items;
    }
    function verdict(x) { return (x.reviewed ? "✓ " : "") + (x.cut ? "cut" : "kept"); }
    function drawSuggestions() {
      var items = suggestionList();
      var list = document.getElementById("suggestions");
      list.innerHTML = items.map(function (x) {
        return '<li class="' + (x.cut ? "cut" : "kept") + (x.reviewed ? " reviewed" : "") + '"><span data-seek="' + x.t + '">' + clock(x.t) + " " + x.label + "</span>" +
          '<span class="verdict" title="' + (x.reviewed ? "You decided" : "Not reviewed yet: as suggested") + '">' + verdict(x) + "</span>" +
          '<button type="button" ' + x.attr + ' data-cut="1" aria-pressed="' + x.cut + '">Cut</button>' +
          '<button type="button" ' + x.attr + ' data-cut="0" aria-pressed="' + !x.cut + '">Keep</button></li>';
      }).join("") || "<li class=muted>None.</li>";
      suggestionItems = {};
      items.forEach(function (x, n) { suggestionItems[x.key] = {el: list.children[n], cut: x.cut, reviewed: x.reviewed}; });
      suggestionCount = items.length;
      drawBulk(items);
    }
    function drawBulk(items) {
      var done = items.filter(function (x) { return x.reviewed; }).length;
      var fillers = items.filter(function (x) { return x.key[0] === "w"; }).length, pauses = ep.markers.filter(isPause).length;
      document.getElementById("bulk").innerHTML = items.length ? '<p class="muted">' + done + " of " + items.length + " reviewed</p>" +
        (fillers ? '<div>Fillers (' + fillers + '): <button type="button" data-bulk="fillers" data-cut="1">Cut all</button>' +
          '<button type="button" data-bulk="fillers" data-cut="0">Keep all</button></div>' : "") +
        (pauses ? '<div>Pauses (' + pauses + '): <button type="button" data-bulk="pauses" data-cut="1">Cut all</button>' +
          '<button type="button" data-bulk="pauses" data-cut="0">Keep all</button></div>' : "") : "";
    }
    function updateSuggestions() {
      var items = suggestionList();
      if (items.length !== suggestionCount || items.some(function (x) { return !suggestionItems[x.key]; })) { drawSuggestions(); return; }
      var changed = false;
      items.forEach(function (x) {
        var have = suggestionItems[x.key];
        if (have.cut === x.cut && have.reviewed === x.reviewed) return;
        changed = true;
        have.cut = x.cut;
        have.reviewed = x.reviewed;
        have.el.className = (x.cut ? "cut" : "kept") + (x.reviewed ? " reviewed" : "");
        var v = have.el.querySelector(".verdict");
        v.textContent = verdict(x);
        v.title = x.reviewed ? "You decided" : "Not reviewed yet: as suggested";
        var bs = have.el.querySelectorAll("button");
        bs[0].setAttribute("aria-pressed", String(x.cut));
        bs[1].setAttribute("aria-pressed", String(!x.cut));
      });
      if (changed) drawBulk(items);
    }
    document.getElementById("bulk").addEventListener("click", function (e) {
      var b = e.target.closest("button[data-bulk]");
      if (!b) return;
      var cut = b.dataset.cut === "1";
      if (b.dataset.bulk === "fillers") {
        var idx = [];
        ep.words.forEach(function (w, i) { if (w[5]) idx.push(i); });
        change("/cut", {words: idx, cut: cut, review: true, version: ep.versions.edit}, applyEdit);
      } else {
        var stamps = ep.markers.filter(isPause).map(function (m) { return m.stamp; });
        change("/marker", {stamps: stamps, cut: cut, review: true, version: ep.versions.edit}, applyEdit);
      }
    });

    function saveChapters(list) {
      change("/chapters", {chapters: list, version: ep.versions.chapters}, function (r) {
        ep.chapters = r.chapters;
        ep.versions.chapters = r.versions.chapters;
        drawChapters();
        placeChapters();
      });
    }
    function chapterList() { return ep.chapters.map(function (c) { return {start_s: c.start_s, title: c.title}; }); }
    var chaptersBox = document.getElementById("chapters");
    chaptersBox.addEventListener("click", function (e) {
      var t = e.target, list = chapterList();
      if (t.dataset.seek) { seek(+t.dataset.seek); return; }
      if (t.dataset.move) { list[+t.dataset.move].start_s = Math.round(player.currentTime * 1000) / 1000; saveChapters(list); }
      if (t.dataset.delete) {
        if (!confirm("Delete the chapter “" + list[+t.dataset.delete].title + "” at " + clock(list[+t.dataset.delete].start_s) + "? (Undo brings it back.)")) return;
        list.splice(+t.dataset.delete, 1);
        saveChapters(list);
      }
    });
    chaptersBox.addEventListener("change", function (e) {
      if (!e.target.dataset.chapter) return;
      var list = chapterList();
      list[+e.target.dataset.chapter].title = e.target.value;
      saveChapters(list);
    });
    function addChapter() {
      var title = prompt("Chapter title:", "");
      if (!title) return;
      var list = chapterList();
      list.push({start_s: Math.round(player.currentTime * 1000) / 1000, title: title});
      saveChapters(list);
    }
    document.getElementById("chapter-add").onclick = addChapter;

    function showRemoved() {
      document.getElementById("removed").textContent = ep.removed_s ? clock(ep.removed_s, true) + " cut, " + clock(ep.duration_s - ep.removed_s) + " left" : "nothing cut";
      placeCuts();
    }

    // --- the waveform and its overlays -------------------------------------------------------------
    // Peaks precomputed by the server, the audio element as the media. The speaker bands, cuts and
    // chapter marks are plain elements in one layer over the waveform, placed (in % of the duration
    // the waveform reports when ready) and changed one by one; wavesurfer's regions plugin only
    // draws the range the host drags on the waveform.
    var layer = null, duration = 0, bandEls = [], cutEls = [], chapterEls = [];
    function setupWave() {
      if (!window.WaveSurfer) return;
      api("GET", base + "/peaks").then(function (p) {
        regions = WaveSurfer.Regions.create();
        wave = WaveSurfer.create({container: "#waveform", media: player, peaks: [p.peaks], duration: ep.duration_s, height: 96,
          waveColor: "#c9b79c", progressColor: "#b5651d", cursorColor: "#222", normalize: true, plugins: [regions]});
        regions.enableDragSelection({color: "rgba(40, 110, 220, 0.25)"});
        regions.on("region-created", function (r) {
          if (waveSel && waveSel !== r) waveSel.remove();
          waveSel = r;
          window.getSelection().removeAllRanges();
          selectRange(firstWordAfter(r.start), lastWordBefore(r.end), true);
        });
        // The overlays go on once the waveform has its duration (wavesurfer loads the peaks a moment
        // after create).
        wave.on("ready", function (d) {
          duration = d || wave.getDuration() || ep.duration_s;
          waveReady = true;
          drawOverlays();
        });
      }).catch(function (err) { document.getElementById("waveform").textContent = "No waveform: " + err.message; });
    }
    function pct(t) { return Math.max(0, Math.min(100, 100 * t / duration)); }
    function place(el, a, b) {
      var left = pct(a).toFixed(4) + "%", right = (100 - pct(b)).toFixed(4) + "%";
      if (el.style.left !== left) el.style.left = left;
      if (el.style.right !== right) el.style.right = right;
    }
    function drawOverlays() {
      if (layer) layer.remove();
      layer = document.createElement("div");
      // inline styles: wavesurfer draws inside a shadow root, where the page's CSS doesn't reach
      layer.style.cssText = "position:absolute;inset:0;pointer-events:none;z-index:4";
      var html = [];
      ep.lines.forEach(function (ln, i) {
        html.push('<div part="region spk-' + i + '" style="position:absolute;top:0;bottom:0;background:' + colour(ln.speaker) + '22"></div>');
      });
      layer.innerHTML = html.join("");
      bandEls = Array.prototype.slice.call(layer.children);
      ep.lines.forEach(function (ln, i) { place(bandEls[i], ln.start_s, Math.max(ln.end_s, ln.start_s + 0.05)); });
      cutEls = [];
      chapterEls = [];
      wave.getWrapper().appendChild(layer);
      placeCuts();
      placeChapters();
    }
    function band(i) {
      if (!waveReady || !bandEls[i]) return;
      bandEls[i].style.background = colour(ep.lines[i].speaker) + "22";
    }
    function placeCuts() {
      if (!waveReady) return;
      ep.cuts.forEach(function (c, i) {
        var el = cutEls[i];
        if (!el) {
          el = cutEls[i] = document.createElement("div");
          el.style.cssText = "position:absolute;top:0;bottom:0;background:rgba(192, 57, 43, 0.35)";
          el.setAttribute("part", "region cut-" + i);
          layer.appendChild(el);
        }
        place(el, c[0], c[1]);
      });
      while (cutEls.length > ep.cuts.length) cutEls.pop().remove();
    }
    function placeChapters() {
      if (!waveReady) return;
      chapterEls.forEach(function (el) { el.remove(); });
      chapterEls = ep.chapters.map(function (c, i) {
        var el = document.createElement("div");
        el.setAttribute("part", "marker chapter-" + i);
        el.style.cssText = "position:absolute;top:0;bottom:0;border-left:2px solid #2e86c1";
        var label = document.createElement("span");
        label.textContent = c.title;
        label.style.cssText = "position:absolute;top:" + (2 + 14 * (i % 3)) + "px;left:2px;white-space:nowrap;font-size:11px;background:rgba(255,255,255,.8);padding:0 3px;color:#1b4f72";
        el.appendChild(label);
        place(el, c.start_s, c.start_s);
        layer.appendChild(el);
        return el;
      });
    }

    function firstWordAfter(t) { var i = wordAt(t); i = Math.max(0, i); while (i < ep.words.length - 1 && (ep.words[i][0] + ep.words[i][1]) / 2 < t) i++; return i; }
    function lastWordBefore(t) { var i = wordAt(t); while (i > 0 && (ep.words[i][0] + ep.words[i][1]) / 2 > t) i--; return Math.max(0, i); }

    // --- playing ------------------------------------------------------------------------------------
    // Which word is playing: binary search on the starts.
    function wordAt(t) {
      var lo = 0, hi = starts.length - 1, found = -1;
      while (lo <= hi) { var mid = (lo + hi) >> 1; if (starts[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1; }
      return found;
    }
    var timeEl = document.getElementById("time"), shownTime = "";
    function highlight() {
      var i = wordAt(player.currentTime);
      if (i !== current) {
        if (current >= 0 && spans[current]) spans[current].classList.remove("now");
        current = i;
        if (i >= 0) {
          if (!player.paused) showWord(i);
          if (spans[i]) spans[i].classList.add("now");
        }
      }
      var text = clock(player.currentTime, true);
      if (text !== shownTime) { timeEl.textContent = text; shownTime = text; }
    }
    function seek(t) {
      player.currentTime = t;
      var i = wordAt(t);
      if (i >= 0) showWord(i);
    }
    // Preview: inside a cut, jump to its end, as the rendered episode will.
    function skipCuts() {
      if (!document.getElementById("preview").checked || !ep) return;
      var t = player.currentTime, cuts = ep.cuts, lo = 0, hi = cuts.length - 1;
      while (lo <= hi) {  // the last cut starting at or before t
        var mid = (lo + hi) >> 1;
        if (cuts[mid][0] <= t) lo = mid + 1; else hi = mid - 1;
      }
      var c = cuts[hi];
      if (c && t < c[1] - 0.001) player.currentTime = c[1];
    }
    function tick() { skipCuts(); highlight(); if (!player.paused) requestAnimationFrame(tick); }
    player.addEventListener("timeupdate", function () { skipCuts(); highlight(); });
    player.addEventListener("play", function () { document.getElementById("play").textContent = "Pause"; requestAnimationFrame(tick); });
    player.addEventListener("pause", function () { document.getElementById("play").textContent = "Play"; });
    player.addEventListener("seeked", highlight);

    function toggle() { if (player.paused) player.play(); else player.pause(); }
    function skip(s) { player.currentTime = Math.max(0, Math.min(ep.duration_s, player.currentTime + s)); }
    document.getElementById("play").onclick = toggle;
    document.getElementById("back").onclick = function () { skip(-5); };
    document.getElementById("fwd").onclick = function () { skip(5); };

    // --- selection --------------------------------------------------------------------------------
    // A clicked word, click then shift-click, a mouse drag over words, or a range dragged on the
    // waveform. There is one selection, the latest: a new one in the text drops the waveform's
    // range, and a new range on the waveform drops the text's.
    function selectRange(a, b, fromWave) {
      clearSel(!fromWave);
      if (a > b) { var t = a; a = b; b = t; }
      sel = [a, b];
      for (var i = a; i <= b; i++) if (spans[i]) spans[i].classList.add("sel");
    }
    function clearSel(alsoWave) {
      if (sel) for (var i = sel[0]; i <= sel[1]; i++) if (spans[i]) spans[i].classList.remove("sel");
      sel = null;
      if (alsoWave && waveSel) { waveSel.remove(); waveSel = null; }
    }
    function selected() { return sel; }
    function domRange() {
      var s = window.getSelection();
      if (!s || s.isCollapsed) return null;
      var a = s.anchorNode && (s.anchorNode.nodeType === 1 ? s.anchorNode : s.anchorNode.parentElement);
      var b = s.focusNode && (s.focusNode.nodeType === 1 ? s.focusNode : s.focusNode.parentElement);
      a = a && a.closest(".w");
      b = b && b.closest(".w");
      if (!a || !b || !box.contains(a) || !box.contains(b)) return null;
      return [+a.dataset.i, +b.dataset.i];
    }
    var dragged = false;
    box.addEventListener("mouseup", function () {
      var r = domRange();
      if (!r) return;
      dragged = true;  // the click that follows the drag is not a click on a word
      setTimeout(function () { dragged = false; }, 0);
      selectRange(r[0], r[1]);
      anchor = Math.min(r[0], r[1]);
      window.getSelection().removeAllRanges();
    });
    box.addEventListener("click", function (e) {
      var who = e.target.closest(".who");
      if (who) { reassign(+who.dataset.line); return; }
      var w = e.target.closest(".w");
      if (!w || w.querySelector("input") || dragged) return;
      var i = +w.dataset.i;
      if (e.shiftKey && anchor !== null) { selectRange(anchor, i); window.getSelection().removeAllRanges(); return; }
      selectRange(i, i);  // a clicked word is a selection of one
      anchor = i;
      player.currentTime = ep.words[i][0];
      highlight();
    });
    box.addEventListener("dblclick", function (e) {
      var w = e.target.closest(".w");
      if (w) correct(+w.dataset.i, w);
    });

    // --- changes ----------------------------------------------------------------------------------
    // Which file each change writes: its version is what the server checks.
    var WRITES = {"/cut": "edit", "/marker": "edit", "/correct": "transcript", "/replace": "transcript", "/speaker": "transcript",
                  "/rename": "transcript", "/chapters": "chapters"};
    function change(url, body, then) {
      say("");
      return api("POST", base + url, body).then(function (r) { if (r.history) setHistory(r.history); return then(r); }).catch(function (err) {
        if (!err.conflict || !WRITES[url]) { fail(err); return; }
        // The file changed on disk: the host chooses. Reload (take the file as it is now), or make
        // this same change again on the file as it is now (nothing else in it is touched).
        say(esc(err.message) + ' <button type="button" id="conflict-reload">Reload</button> ' +
            '<button type="button" id="conflict-apply">Make my change on the new file</button>', "error");
        document.getElementById("conflict-reload").onclick = function () { location.reload(); };
        document.getElementById("conflict-apply").onclick = function () {
          api("GET", base).then(function (d) {
            body.version = d.versions[WRITES[url]];
            ep.versions = d.versions;
            return change(url, body, function (r) { then(r); return api("GET", base).then(refresh); });
          }).catch(fail);
        };
      });
    }
    // Undo and redo: the server puts the files back as they were (its history of the studio's
    // changes); the page then takes the episode as it is now and changes only what differs.
    function setHistory(h) {
      ep.history = h;
      var u = document.getElementById("undo"), r = document.getElementById("redo");
      u.disabled = !h.undo;
      r.disabled = !h.redo;
      u.title = h.undo ? "Undo: " + h.undo + " (Ctrl+Z)" : "Nothing to undo (Ctrl+Z)";
      r.title = h.redo ? "Redo: " + h.redo + " (Ctrl+Shift+Z)" : "Nothing to redo (Ctrl+Shift+Z)";
    }
    function step(undo) {
      var what = undo ? ep.history.undo : ep.history.redo;
      if (!what) { say(undo ? "Nothing to undo." : "Nothing to redo."); return; }
      say("");
      api("POST", base + (undo ? "/undo" : "/redo")).then(function (r) {
        setHistory(r.history);
        return api("GET", base).then(function (d) {
          refresh(d);
          say((undo ? "Undone: " : "Redone: ") + esc(r.what) + ".");
        });
      }).catch(fail);
    }
    // The episode as the server has it now: only what differs from the page is changed.
    function refresh(d) {
      if (d.words.length !== ep.words.length || d.lines.length !== ep.lines.length) {
        Object.assign(ep, d);
        draw();
        drawSpeakers();
        drawSuggestions();
        drawChapters();
        if (waveReady) drawOverlays();
        showRemoved();
        return;
      }
      d.words.forEach(function (w, i) {
        var o = ep.words[i], span = spans[i];
        if (!span) return;
        if (w[2] !== o[2] && !span.querySelector("input")) span.textContent = w[2];
        if (w[4] !== o[4]) span.classList.toggle("cut", !!w[4]);
        if (w[5] !== o[5]) span.classList.toggle("sug", !!w[5]);
        if (w[6] !== o[6]) span.classList.toggle("fixed", !!w[6]);
      });
      var oldLines = ep.lines, oldSpeakers = ep.speakers.join("\n"), oldChapters = JSON.stringify(ep.chapters);
      Object.assign(ep, d);
      if (ep.speakers.join("\n") !== oldSpeakers) {
        drawSpeakers();
        ep.lines.forEach(function (ln, i) { setLineSpeaker(i); });
      } else {
        ep.lines.forEach(function (ln, i) { if (ln.speaker !== oldLines[i].speaker) setLineSpeaker(i); });
      }
      setHistory(d.history);
      updateSuggestions();
      if (JSON.stringify(ep.chapters) !== oldChapters) { drawChapters(); placeChapters(); }
      showRemoved();
    }
    function toggleKeys(show) {
      var keys = document.getElementById("keys");
      keys.hidden = show === undefined ? !keys.hidden : !show;
      if (!keys.hidden) keys.querySelector("button").focus();
    }
    document.getElementById("keys-open").onclick = function () { toggleKeys(true); };
    document.getElementById("keys").addEventListener("click", function (e) {
      if (e.target.id === "keys" || e.target.closest("button")) toggleKeys(false);
    });
    document.getElementById("undo").onclick = function () { step(true); };
    document.getElementById("redo").onclick = function () { step(false); };

    function cutSelection(cut) {
      var range = selected();
      if (!range) { say("Select words first: click one, shift-click another (or drag over them, or over the waveform)."); return; }
      var idx = [];
      for (var i = range[0]; i <= range[1]; i++) idx.push(i);
      cutWords(idx, cut);
      clearSel(true);
      window.getSelection().removeAllRanges();
    }
    function cutWords(idx, cut) {
      change("/cut", {words: idx, cut: cut, version: ep.versions.edit}, applyEdit);
    }
    function applyEdit(r) {
      ep.versions.edit = r.versions.edit;
      ep.cuts = r.cuts;
      ep.markers = r.markers;
      ep.removed_s = r.removed_s;
      if (r.reviewed) ep.reviewed = r.reviewed;
      var removed = new Uint8Array(ep.words.length);
      r.removed.forEach(function (i) { removed[i] = 1; });
      for (var i = 0; i < ep.words.length; i++) {
        var w = ep.words[i];
        if (w[4] === removed[i]) continue;
        w[4] = removed[i];
        if (spans[i]) spans[i].classList.toggle("cut", !!removed[i]);
      }
      updateSuggestions();
      showRemoved();
    }
    function quoteSelection() {
      var range = selected();
      if (!range) { say("Select the words to quote first."); return; }
      api("GET", base + "/post").then(function (p) {
        return api("POST", base + "/post/quote", {first: range[0], last: range[1], version: p.version});
      }).then(function () {
        say('Quoted in post.md. <a href="/episodes/' + encodeURIComponent(slug) + '/post">Open the post</a>');
        clearSel(true);
      }).catch(fail);
    }
    document.getElementById("cut").onclick = function () { cutSelection(true); };
    document.getElementById("quote").onclick = quoteSelection;
    document.getElementById("keep").onclick = function () { cutSelection(false); };
    document.getElementById("suggestions").addEventListener("click", function (e) {
      var b = e.target.closest("button"), s = e.target.closest("[data-seek]");
      if (s) { seek(+s.dataset.seek); return; }
      if (!b) return;
      var cut = b.dataset.cut === "1";
      if (b.dataset.marker) change("/marker", {stamps: [b.dataset.marker], cut: cut, review: true, version: ep.versions.edit}, applyEdit);
      else change("/cut", {words: [+b.dataset.word], cut: cut, review: true, version: ep.versions.edit}, applyEdit);
    });

    // Corrections: the server answers with the words it changed; only those are redrawn.
    function setWords(changed) {
      changed.forEach(function (c) {
        var w = ep.words[c[0]];
        if (!w) return;
        w[2] = c[1];
        w[6] = c[2];
        var span = spans[c[0]];
        if (span && !span.querySelector("input")) {
          span.textContent = c[1];
          span.classList.toggle("fixed", !!c[2]);
        }
      });
    }
    function correct(i, span) {
      var input = document.createElement("input");
      input.value = ep.words[i][2];
      span.textContent = "";
      span.appendChild(input);
      input.focus();
      input.select();
      var done = false;
      function finish(save) {
        if (done) return;
        done = true;
        var text = input.value.trim();
        span.textContent = ep.words[i][2];
        if (!save || !text || text === ep.words[i][2]) return;
        var was = norm(ep.words[i][2]);
        change("/correct", {word: i, text: text, version: ep.versions.transcript}, function (r) {
          ep.versions.transcript = r.versions.transcript;
          setWords(r.words || []);
          var core = text.replace(/^[.,!?;:"'()…]+|[.,!?;:"'()…]+$/g, "");
          function other(w) { return norm(w[2]) === was && w[2].indexOf(core) < 0; }
          var others = ep.words.filter(other).length;
          say("Corrected. " + (ep.rendered ? "Render to update the captions, transcripts and post." : "Transcripts updated; render or draft to update the post.") +
            (others ? ' <button type="button" id="replace-all">Replace the other ' + others + " too, and add “" + esc(text) + "” to the show’s vocabulary</button>" : ""));
          var b = document.getElementById("replace-all");
          if (b) b.onclick = function () {
            var j = ep.words.findIndex(other);
            change("/replace", {word: j, text: text, vocabulary: true, version: ep.versions.transcript}, function (r2) {
              ep.versions.transcript = r2.versions.transcript;
              setWords(r2.words || []);
              say("Replaced " + r2.replaced + ". " + esc(r2.vocabulary || ""));
            });
          };
        });
      }
      input.addEventListener("keydown", function (e) {
        e.stopPropagation();
        if (e.key === "Enter") finish(true);
        if (e.key === "Escape") finish(false);
      });
      input.addEventListener("blur", function () { finish(true); });
    }

    function norm(t) { return String(t).toLowerCase().replace(/[^\w'-]+/g, ""); }

    // Who says it: a picker of the people the episode knows (speakers, hosts, guests), or a new name
    // typed (matched without case, so "guest one" is the existing "Guest One").
    function samePerson(a, b) { return String(a).trim().replace(/\s+/g, " ").toLowerCase() === String(b).trim().replace(/\s+/g, " ").toLowerCase(); }
    function asKnown(name) {
      var found = (ep.people || ep.speakers).filter(function (p) { return samePerson(p, name); })[0];
      return found || name.trim().replace(/\s+/g, " ");
    }
    function pickPerson(anchorEl, title, currentName, done) {
      var panel = document.getElementById("picker");
      var others = (ep.people || ep.speakers).filter(function (p) { return !samePerson(p, currentName); });
      panel.innerHTML = '<div class="picker-title">' + esc(title) + "</div>" + others.map(function (p) {
        return '<button type="button" class="person" data-person="' + esc(p) + '" style="--spk:' + colour(p) + '"><span class="swatch"></span>' + esc(p) + "</button>";
      }).join("") + '<form class="picker-new"><input name="name" placeholder="Someone else…" aria-label="Another name" autocomplete="off">' +
        '<button type="submit">OK</button></form>';
      var r = anchorEl.getBoundingClientRect();
      panel.style.left = Math.max(4, Math.min(r.left, window.innerWidth - 260)) + "px";
      panel.style.top = Math.min(r.bottom + 4, window.innerHeight - 40) + "px";
      panel.hidden = false;
      var input = panel.querySelector("input");
      function close() { panel.hidden = true; panel.innerHTML = ""; document.removeEventListener("mousedown", outside, true); }
      function outside(e) { if (!panel.contains(e.target)) close(); }
      function pick(name) {
        close();
        name = asKnown(name || "");
        if (name && name !== currentName) done(name);  // (the same person spelled better is a rename)
      }
      panel.onclick = function (e) { var b = e.target.closest("button[data-person]"); if (b) pick(b.dataset.person); };
      panel.querySelector("form").onsubmit = function (e) { e.preventDefault(); pick(input.value); };
      panel.onkeydown = function (e) { if (e.key === "Escape") { e.stopPropagation(); close(); } };
      document.addEventListener("mousedown", outside, true);
      (panel.querySelector("button.person") || input).focus();
    }
    function setPeople(r) {
      var before = ep.speakers.join("\n");
      ep.speakers = r.speakers;
      ep.people = r.people;
      ep.guests = r.guests;
      return ep.speakers.join("\n") !== before;
    }

    function reassign(li) {
      var ln = ep.lines[li];
      var who = box.querySelector('.who[data-line="' + li + '"]');
      pickPerson(who, "Who says this line?", ln.speaker || "", function (name) {
        change("/speaker", {line: li, speaker: name, version: ep.versions.transcript}, function (r) {
          ep.versions.transcript = r.versions.transcript;
          ln.speaker = r.speaker;
          if (setPeople(r)) {  // someone new, or someone gone: the colours follow the list
            drawSpeakers();
            ep.lines.forEach(function (l, i) { setLineSpeaker(i); });
          } else {
            setLineSpeaker(li);
          }
        });
      });
    }
    document.getElementById("speakers").addEventListener("click", function (e) {
      var b = e.target.closest("button[data-rename]");
      if (!b) return;
      var old = b.dataset.rename;
      pickPerson(b, "Rename " + old + " to (a name listed merges the two):", old, function (name) {
        change("/rename", {old: old, new: name, version: ep.versions.transcript}, function (r) {
          ep.versions.transcript = r.versions.transcript;
          setPeople(r);
          ep.lines.forEach(function (ln) { if (ln.speaker === old) ln.speaker = r.speaker; });
          drawSpeakers();
          ep.lines.forEach(function (ln, i) { setLineSpeaker(i); });
        });
      });
    });

    // Render: the button stays disabled while the render runs (a second click can't hide its
    // progress); a render already running when the page opens is shown too. Its warnings (a feed
    // that wasn't refreshed) are shown with the result, not dropped.
    var renderButton = document.getElementById("render");
    function pollRender(first) {
      var bar = document.getElementById("progress");
      api("GET", base + "/job").then(function (j) {
        if (first && !j.running) return;
        renderButton.disabled = !!j.running;
        bar.hidden = !j.running;
        var pct = j.total ? Math.min(100, 100 * j.done / j.total) : 5;
        bar.querySelector(".fill").style.width = pct + "%";
        bar.querySelector(".label").textContent = j.running ? "Rendering: " + (j.stage || "starting") + " " + Math.round(pct) + "%" : "";
        if (j.running) { setTimeout(pollRender, 500); return; }
        if (j.error) { say(esc(j.error), "error"); return; }
        ep.rendered = true;
        var warnings = (j.result && j.result.warnings) || [];
        say("Render done: " + esc(j.result.line) + "." + (warnings.length ? "<ul class=\"warnings\">" + warnings.map(function (w) {
          return "<li>" + esc(w) + "</li>"; }).join("") + "</ul>" : ""), warnings.length ? "warn" : "");
      }).catch(function (err) { renderButton.disabled = false; bar.hidden = true; fail(err); });
    }
    renderButton.onclick = function () {
      if (renderButton.disabled) return;
      renderButton.disabled = true;
      var bar = document.getElementById("progress");
      bar.hidden = false;
      bar.querySelector(".fill").style.width = "0%";
      bar.querySelector(".label").textContent = "Rendering: starting";
      say("");
      api("POST", base + "/render").then(function () { pollRender(false); })
        .catch(function (err) { bar.hidden = true; renderButton.disabled = false; fail(err); });
    };
    pollRender(true);

    document.addEventListener("keydown", function (e) {
      if ((e.target.tagName === "INPUT" && e.target.type !== "checkbox") || e.target.tagName === "TEXTAREA") return;
      if (e.target.closest && (e.target.closest("#picker") || (e.target.closest("#keys") && e.key !== "Escape" && e.key !== "?"))) return;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "z" || e.key === "Z" || e.key === "y")) {
        e.preventDefault();
        step(e.key.toLowerCase() === "z" && !e.shiftKey);
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      var key = e.key.length === 1 ? e.key.toLowerCase() : e.key;  // Shift or Caps Lock: the same key
      if (key === "?") { e.preventDefault(); toggleKeys(); }
      else if (key === "Escape") { if (!document.getElementById("keys").hidden) toggleKeys(false); else clearSel(true); }
      else if (key === " ") { e.preventDefault(); toggle(); }
      else if (key === "ArrowLeft") { e.preventDefault(); skip(-5); }
      else if (key === "ArrowRight") { e.preventDefault(); skip(5); }
      else if (key === "x" || key === "Delete" || key === "Backspace") { e.preventDefault(); cutSelection(true); }
      else if (key === "k") { cutSelection(false); }
      else if (key === "p") { var p = document.getElementById("preview"); p.checked = !p.checked; }
      else if (key === "c") { addChapter(); }
      else if (key === "q") { quoteSelection(); }
    });
  }

  // --- the post editor: post.md beside the site's rendering of it ----------------------------------
  function postPage() {
    var slug = decodeURIComponent(location.pathname.split("/").slice(-2)[0]);
    var base = "/api/episodes/" + encodeURIComponent(slug) + "/post";
    var area = document.getElementById("post-text"), preview = document.getElementById("post-preview");
    var version = null, timer = null, dirty = false;
    document.getElementById("back").href = "/episodes/" + encodeURIComponent(slug);
    api("GET", base).then(function (p) {
      area.value = p.text;
      preview.innerHTML = p.html;
      version = p.version;
    }).catch(fail);
    area.addEventListener("input", function () {
      dirty = true;
      document.getElementById("saved").textContent = "not saved";
      clearTimeout(timer);
      timer = setTimeout(function () {
        api("POST", base + "/preview", {text: area.value}).then(function (r) { preview.innerHTML = r.html; }).catch(fail);
      }, 250);
    });
    function save() {
      say("");
      var text = area.value;
      api("POST", base + "/save", {text: text, version: version}).then(function (r) {
        version = r.version;
        dirty = area.value !== text;
        document.getElementById("saved").textContent = dirty ? "not saved" : "saved";
      }).catch(function (err) {
        if (!err.conflict) { fail(err); return; }
        api("GET", base).then(conflict).catch(fail);
      });
    }
    // post.md changed on disk since the page read it: the host's text stays where it is; both are
    // shown, and the host chooses (theirs over the file's, or the file's, or merge by hand and save).
    function conflict(disk) {
      var panel = document.getElementById("post-conflict");
      panel.hidden = false;
      panel.innerHTML = "<p><b>post.md changed on disk</b> since this page read it (edited in another program, or a quote " +
        "added). Nothing was saved. Your text is still in the editor; the file's is below.</p>" +
        '<div class="post-columns"><div><h3>Yours</h3><pre id="conflict-mine"></pre></div><div><h3>On disk</h3><pre id="conflict-disk"></pre></div></div>' +
        '<button type="button" id="conflict-keep">Save mine over it</button> <button type="button" id="conflict-take">Take the file’s (drop mine)</button> ' +
        '<button type="button" id="conflict-close">Merge by hand, then save</button>';
      document.getElementById("conflict-mine").textContent = area.value;
      document.getElementById("conflict-disk").textContent = disk.text;
      function close() { panel.hidden = true; panel.innerHTML = ""; }
      document.getElementById("conflict-keep").onclick = function () { version = disk.version; close(); save(); };
      document.getElementById("conflict-take").onclick = function () {
        area.value = disk.text;
        preview.innerHTML = disk.html;
        version = disk.version;
        dirty = false;
        document.getElementById("saved").textContent = "the file's";
        close();
      };
      document.getElementById("conflict-close").onclick = function () { version = disk.version; close(); area.focus(); };
    }
    document.getElementById("save").onclick = save;
    document.addEventListener("keydown", function (e) {
      if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); save(); }
    });
    window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
  }

  window.Studio = {listPage: listPage, episodePage: episodePage, postPage: postPage};
})();

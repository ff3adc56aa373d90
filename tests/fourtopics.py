"""A 9-minute interview with four known topics (childhood, competitions, a research paper, advice),
written for the draft tests: the shape of the interview in issue 18, not the demo's script.

It carries what a real interview carries: a host introduction saying who the guest is, fillers
("Uhm", "um", "uh"), false starts ("I I", "we- we"), a URL as Whisper writes a spoken one
("GitHub.com slash Ada slash tools"), a paper title ("The paper is called ..."), and a show name
whose words are said in the talk ("Protein Build"): none of them may become a chapter title.
"""

from __future__ import annotations

from chaitime.sample import Line

HOST = "Sam Host"
GUEST = "Ada Guest"
SHOW = "Protein Build"
URL = "https://github.com/ada/tools"
PAPER = "Fast Side Chain Packing with Equivariant Graph Networks"
TOPICS = ("childhood", "competitions", "paper", "advice")

_CHILDHOOD = (
    Line(HOST, "Welcome to Protein Build, the show about the people who build proteins. I'm Sam Host."),
    Line(HOST, "My guest today is Ada Guest, a computational biologist at the Northfield Institute who designs enzymes with machine learning."),
    Line(GUEST, "Thanks for having me, Sam. I have listened to Protein Build for years, so this is a real treat."),
    Line(HOST, "Let's start at the beginning. Where did you grow up, and what was your childhood like?"),
    Line(GUEST, "Uhm, I grew up on a sheep farm in the hills of Wales, a long way from any town or any laboratory."),
    Line(GUEST, "My childhood was muddy and quiet. We had the sheep, a vegetable garden, and a very old tractor."),
    Line(HOST, "Was there a moment in your childhood when science caught your attention?"),
    Line(GUEST, "My grandmother kept bees behind the farmhouse. I I watched the hives for hours and asked her how the bees made wax."),
    Line(GUEST, "She gave me a magnifying glass and a notebook, and I drew every insect on the farm."),
    Line(HOST, "Did you have a teacher who pushed you?"),
    Line(GUEST, "Yes, the village school had one chemistry teacher, Mr Evans, who let me stay after class and mix things in the sink."),
    Line(GUEST, "He lent me his own books about crystals and molecules, and I read them on the school bus every morning."),
    Line(HOST, "And the farm itself, did it teach you anything you still use?"),
    Line(GUEST, "Patience. On a farm you wait for lambs, for rain, for the harvest, and that is exactly what experiments feel like."),
    Line(GUEST, "My parents still run the farm, and I go home every spring to help with the lambing."),
    Line(HOST, "Did you always know you would leave the farm for university?"),
    Line(GUEST, "Not at all. I was the first person in my family to go to university, and I nearly stayed home to keep the sheep."),
)
_COMPETITIONS = (
    Line(HOST, "Let's talk about competitions. You have entered a lot of them. How did that start?"),
    Line(GUEST, "Um, my first competition was a Kaggle challenge on predicting protein stability, during my master's degree."),
    Line(GUEST, "I finished in the bottom half of the leaderboard, but I learned more in those three months than in a whole semester."),
    Line(HOST, "What about CASP, the structure prediction competition?"),
    Line(GUEST, "CASP is the big one. Every two years teams submit predicted structures before the real ones are released, so nobody can cheat."),
    Line(GUEST, "Our team entered twice. The first time we ranked fortieth, and the second time we reached the top ten."),
    Line(HOST, "How do you organise a team for a competition like that?"),
    Line(GUEST, "We split the targets between us, we meet every morning during the submission window, and one person owns the final ranking of models."),
    Line(GUEST, "We- we also keep a shared spreadsheet of every submission, so nobody resubmits the same model twice."),
    Line(HOST, "Do competitions reward the right things?"),
    Line(GUEST, "Mostly. A leaderboard rewards a single number, and in competitions people overfit to that number, uh, instead of the biology."),
    Line(GUEST, "The best competitions hide the test targets until the deadline, and CASP does that very well."),
    Line(GUEST, "Kaggle taught me to validate honestly, and CASP taught me to respect a deadline that nobody will move for you."),
    Line(HOST, "What was your best moment in a competition?"),
    Line(GUEST, "The morning the final CASP rankings came out and our small team sat above two famous labs. We celebrated with cake in the corridor."),
)
_PAPER = (
    Line(HOST, "Tell me about your new paper. What problem does it solve?"),
    Line(GUEST, "The paper is called Fast Side Chain Packing with Equivariant Graph Networks. It came out this spring."),
    Line(GUEST, "Side chain packing means placing the flexible parts of each amino acid once the backbone of the protein is fixed."),
    Line(HOST, "Why does side chain packing need a new method?"),
    Line(GUEST, "The classic methods search a library of rotamers one residue at a time, and that search is slow for large designs."),
    Line(GUEST, "Our equivariant graph network looks at all the residues together and predicts every rotamer in a single pass."),
    Line(HOST, "What does equivariant mean here, for listeners who are new to it?"),
    Line(GUEST, "It means that if you rotate the protein, the network's prediction rotates with it, so the network never has to learn geometry from scratch."),
    Line(HOST, "How fast is it compared with the classic rotamer search?"),
    Line(GUEST, "On our benchmark of two thousand structures the graph network is about fifty times faster, and the packing accuracy is slightly better."),
    Line(HOST, "Where can people find the code?"),
    Line(GUEST, "Everything is open source. The code is at GitHub.com slash Ada slash tools, with the trained network weights and the benchmark."),
    Line(HOST, "What surprised you most while writing the paper?"),
    Line(GUEST, "The reviewers asked for a harder benchmark of membrane proteins, and the graph network still packed them well."),
    Line(GUEST, "We also wrote a small tutorial that packs the side chains of a designed enzyme in under a minute."),
)
_ADVICE = (
    Line(HOST, "Before we finish, what advice would you give a student who wants to start in this field?"),
    Line(GUEST, "Learn to write code well and learn the chemistry properly. Students who have both are rare and valuable."),
    Line(GUEST, "My advice is to pick one small question and answer it completely before chasing a big one."),
    Line(HOST, "How should a student find a mentor?"),
    Line(GUEST, "Write to people whose papers you have actually read, and ask one specific question. Busy scientists answer specific emails."),
    Line(HOST, "Any advice about the hard days, when experiments fail?"),
    Line(GUEST, "Keep a lab notebook of failures as carefully as successes. Failed experiments are data, and you will need them later."),
    Line(GUEST, "And protect your sleep. Tired students make careless mistakes and then spend weeks chasing them."),
    Line(HOST, "What is one habit you wish you had started earlier?"),
    Line(GUEST, "Reading one paper every morning with my coffee. Ten years of that habit is a whole library in your head."),
    Line(HOST, "That is wonderful advice. Thank you, Ada, and thanks to everyone listening to Protein Build.", pause_after_s=1.0),
)
SCRIPT: tuple[Line, ...] = _CHILDHOOD + _COMPETITIONS + _PAPER + _ADVICE
# Index of the line that opens each topic after the first (the host's question).
BOUNDARIES: tuple[int, ...] = (
    len(_CHILDHOOD),
    len(_CHILDHOOD) + len(_COMPETITIONS),
    len(_CHILDHOOD) + len(_COMPETITIONS) + len(_PAPER),
)

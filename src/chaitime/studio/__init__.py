"""chaitime studio: review, correct and cut an episode in the browser, on the episode files as they are.

A face beside cli/ above pipeline.py (design.md): routes (app.py) that call the edit, transcript
and pipeline functions through studio.episodes, plus static files. Only this package imports
starlette and uvicorn.
"""

"""The browser front end (Gradio Blocks); app.py only launches it."""

"""Video: frames with timestamps in, per-frame poses and classes out, with tracking, smoothing, segments and counts.

- :mod:`.io`: telling a video from an image, reading files and cameras, writing annotated copies (PyAV);
- :mod:`.filters`: One-Euro keypoints, the probability average, segments and the repetition counter;
- :mod:`.timeline`: one person over time (:class:`VideoOptions`, :class:`FrameResult`);
- :mod:`.tracking`: one person's crop from frame to frame, and everyone's ids;
- :mod:`.person` and :mod:`.people`: the classifiers for one person and for everyone in view.

A new filter goes in :mod:`.filters` and is wired into :class:`~poseclass.video.timeline.PersonTimeline`,
which both classifiers share.
"""

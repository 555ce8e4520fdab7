"""The SageMaker container contract, shared by the PyTorch and TensorFlow training code.

Everything that is the same for both frameworks lives here: where SageMaker puts inputs and
expects outputs (``environment``), hyperparameter parsing (``hyperparameters``), the failure file
(``failure``), CSV channels (``data``), checkpoints (``checkpoints``), metric lines (``metrics``),
cluster layout (``cluster``), request/response payloads (``payloads``) and the HTTP model server
(``wsgi``, ``server``). It depends on the Python standard library and numpy only, except
``server`` which needs gunicorn; neither framework is imported here.
"""

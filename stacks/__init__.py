"""The Stage built once per environment, and its stacks. Stacks compose constructs only."""

from stacks.data_stack import DataStack
from stacks.sagemaker_stage import SageMakerStage
from stacks.serving_stack import ServingStack
from stacks.training_stack import TrainingStack

__all__ = ["DataStack", "SageMakerStage", "ServingStack", "TrainingStack"]
